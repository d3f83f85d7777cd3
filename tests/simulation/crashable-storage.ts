import type { StorageAdapter, WriteHint, WriteTransaction } from '@natter/server-core';

/** Simulated disk behaviour of a view. */
export interface DiskHooks {
  /** Simulated time a write spends before its commit (an fsync): the window in which a crash rolls it back. */
  commitDelayMs(): number;
  /** Called right before a write commits and right after it did: a fault may crash the server there. */
  onCommit?(phase: 'before' | 'after', hint: WriteHint | undefined): void;
}

/** What the dead server's code sees from the store: the process is gone, nothing it does lands. */
export class CrashedError extends Error {
  override readonly name = 'CrashedError';
  constructor() {
    super('the server process crashed');
  }
}

/**
 * One server incarnation's view of a storage adapter that outlives it (the disk). `crash()` is `kill -9`:
 * a write whose function is still running then throws, so the adapter rolls it back (the memory adapter
 * commits a `write()` only when its function returns), and every later call on the view fails. A write that
 * had committed before the crash stays committed even if the dead server never got to acknowledge it.
 */
export class CrashableStorage {
  readonly adapter: StorageAdapter;
  /** Writes rolled back because the crash came before their commit. */
  rolledBack = 0;
  private dead = false;

  /** @param disk the adapter that outlives incarnations. */
  constructor(disk: StorageAdapter, hooks: DiskHooks = { commitDelayMs: () => 0 }) {
    const guard = <T>(value: T): T => {
      if (this.dead) throw new CrashedError();
      return value;
    };
    const wrap = <S extends object>(target: S, overrides: Partial<S>): S =>
      new Proxy(target, {
        get: (t, prop, receiver) => {
          if (prop in overrides) return overrides[prop as keyof S];
          const value = Reflect.get(t, prop, receiver) as unknown;
          if (typeof value !== 'function') return value;
          return (...args: unknown[]) => {
            guard(undefined);
            const result = (value as (...a: unknown[]) => unknown).apply(t, args);
            return result instanceof Promise ? result.then(guard) : result;
          };
        },
      });
    const chat = disk.chat;
    this.adapter = {
      manifest: disk.manifest,
      accounts: wrap(disk.accounts, {}),
      chat: wrap(chat, {
        epoch: () => chat.epoch(),
        write: <T>(fn: (tx: WriteTransaction) => Promise<T>, hint?: WriteHint) => {
          if (this.dead) return Promise.reject(new CrashedError());
          return chat
            .write(async (tx) => {
              try {
                const value = await fn(wrap(tx, {}));
                const delay = hooks.commitDelayMs();
                if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
                if (!this.dead) hooks.onCommit?.('before', hint);
                // Throwing once crashed, before the commit, makes the adapter roll the whole write back.
                return guard(value);
              } catch (err) {
                if (this.dead) this.rolledBack++;
                throw err;
              }
            }, hint)
            .then((value) => {
              if (!this.dead) hooks.onCommit?.('after', hint);
              return guard(value);
            });
        },
      }),
      open: () => (this.dead ? Promise.reject(new CrashedError()) : disk.open()),
      // The disk outlives every incarnation: closing a view never closes the shared adapter.
      close: async () => {},
    };
  }

  /** Kills the incarnation: nothing it does from now on reaches the disk. */
  crash(): void {
    this.dead = true;
  }

  get crashed(): boolean {
    return this.dead;
  }
}
