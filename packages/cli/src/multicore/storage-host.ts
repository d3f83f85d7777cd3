import { isDeepStrictEqual } from 'node:util';
import {
  ErrorCode,
  NatterError,
  type StorageAdapter,
  type WriteHint,
  type WriteTransaction,
} from '@natter/server-core';
import { appendCheckedWith } from './checked-append.js';
import type { IpcPort } from './port.js';
import { methodAt } from './remote-object.js';
import { errorFromWire, errorToWire, type RpcResolver, type WireError } from './rpc.js';

/** What a worker learns about the store when it connects. */
export interface StoreDescription {
  manifest: StorageAdapter['manifest'];
  epoch: string;
  /** The primary's transactions offer `appendChecked` (the one-round-trip send). */
  appendChecked: boolean;
}

/** A step a worker sends into an open write. */
type Step =
  | { kind: 'op'; path: string; args: unknown[]; answer: (outcome: Outcome) => void }
  | { kind: 'end'; ok: boolean; error?: WireError };

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

/**
 * How long an open write may wait for a worker's next step. The store's single writer waits with it, so a
 * worker that hangs must not stall every other write for longer than this.
 */
const STEP_TIMEOUT_MS = 30_000;

/**
 * One write of a worker on the primary: the transaction function the store runs, driven by the steps the
 * worker sends. The first run answers each operation live and records it; a store may run a write function
 * again (group commit retries a batch with savepoints), and then the recorded operations are replayed and
 * must give the same outcomes, or the write fails instead of committing something the worker did not see.
 */
class HostedWrite {
  private readonly inbox: Step[] = [];
  private wake: (() => void) | undefined;
  private readonly log: Array<{ path: string; args: unknown[]; outcome: Outcome }> = [];
  private end: Extract<Step, { kind: 'end' }> | undefined;
  private runs = 0;

  push(step: Step): void {
    this.inbox.push(step);
    this.wake?.();
  }

  /** The worker is gone: the write rolls back. */
  abandon(): void {
    this.push({ kind: 'end', ok: false, error: { name: 'Error', message: 'the worker process is gone' } });
  }

  readonly run = async (tx: WriteTransaction): Promise<void> => {
    this.runs++;
    if (this.runs > 1) return this.replay(tx);
    for (;;) {
      const step = await this.next();
      if (step.kind === 'end') {
        this.end = step;
        if (!step.ok) throw errorFromWire(step.error!);
        return;
      }
      const outcome = await execute(tx, step.path, step.args);
      this.log.push({ path: step.path, args: step.args, outcome });
      step.answer(outcome);
    }
  };

  private async replay(tx: WriteTransaction): Promise<void> {
    for (const entry of this.log) {
      const outcome = await execute(tx, entry.path, entry.args);
      const same =
        outcome.ok === entry.outcome.ok &&
        (outcome.ok
          ? isDeepStrictEqual(outcome.value, (entry.outcome as { value: unknown }).value)
          : isDeepStrictEqual(
              errorToWire(outcome.error),
              errorToWire((entry.outcome as { error: unknown }).error),
            ));
      if (!same)
        throw new NatterError(
          ErrorCode.UNAVAILABLE,
          `a retried write saw a different ${entry.path}; try again`,
        );
    }
    if (this.end && !this.end.ok) throw errorFromWire(this.end.error!);
  }

  private async next(): Promise<Step> {
    while (this.inbox.length === 0) {
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        timer = setTimeout(() => {
          this.abandonAfterTimeout();
          resolve();
        }, STEP_TIMEOUT_MS);
      });
      clearTimeout(timer);
      this.wake = undefined;
    }
    return this.inbox.shift()!;
  }

  private abandonAfterTimeout(): void {
    if (this.inbox.length === 0)
      this.inbox.push({
        kind: 'end',
        ok: false,
        error: { name: 'Error', message: 'the worker sent nothing for 30 s' },
      });
  }
}

/** Runs one operation of a transaction; its outcome, never a throw. */
async function execute(tx: WriteTransaction, path: string, args: unknown[]): Promise<Outcome> {
  const fn =
    path === 'appendChecked'
      ? (send: unknown) => appendCheckedWith(tx, send as Parameters<typeof appendCheckedWith>[1])
      : methodAt(tx, path);
  if (!fn) return { ok: false, error: new Error(`no transaction operation ${path}`) };
  try {
    return { ok: true, value: await fn(...args) };
  } catch (error) {
    return { ok: false, error };
  }
}

/**
 * The store's side in the primary: the one process that opens the SQLite file and writes it. Workers reach
 * it through {@link StorageHost.attach}: reads and account calls are forwarded as they are; a write is a
 * transaction the worker drives step by step (see {@link HostedWrite}), except a send that starts with
 * `appendChecked`, which runs whole in the primary and is answered after its commit (one round trip).
 */
export class StorageHost {
  constructor(private readonly storage: StorageAdapter) {}

  /** Serves one worker on `port` (returns its calls); its open writes roll back when the port closes. */
  attach(port: IpcPort): RpcResolver {
    const writes = new Map<number, HostedWrite>();
    const committed = new Map<number, Promise<void>>();
    const { storage } = this;
    // The store queues writes in the order they are opened here, which is the worker's call order.
    const open = (id: number, hint: WriteHint | undefined): HostedWrite => {
      const write = new HostedWrite();
      writes.set(id, write);
      const done = storage.chat.write(write.run, hint).finally(() => writes.delete(id));
      // Kept for write.end; a failure before the end is reported there.
      done.catch(() => undefined);
      committed.set(id, done);
      return write;
    };
    const table: Record<string, (...args: never[]) => unknown> = {
      'store.describe': (): StoreDescription => ({
        manifest: storage.manifest,
        epoch: storage.chat.epoch(),
        // Always: the primary runs the one-step send itself where the store has none (checked-append.ts).
        appendChecked: true,
      }),
      'write.one': (
        hint: WriteHint | undefined,
        send: Parameters<NonNullable<WriteTransaction['appendChecked']>>[0],
      ) => storage.chat.write((tx) => appendCheckedWith(tx, send), hint),
      'write.open': (id: number, hint: WriteHint | undefined) => {
        open(id, hint);
      },
      'write.begin': (id: number, hint: WriteHint | undefined, path: string, args: unknown[]) =>
        answerOf(open(id, hint), path, args),
      'write.op': (id: number, path: string, args: unknown[]) => {
        const write = writes.get(id);
        if (!write) throw new Error(`no open write ${id}`);
        return answerOf(write, path, args);
      },
      'write.end': (id: number, ok: boolean, error?: WireError) => {
        const done = committed.get(id);
        committed.delete(id);
        writes.get(id)?.push({ kind: 'end', ok, ...(error ? { error } : {}) });
        if (!done) throw new Error(`no open write ${id}`);
        return done;
      },
    };
    port.onClose(() => {
      for (const write of writes.values()) write.abandon();
    });
    return (method) => {
      if (Object.hasOwn(table, method)) return table[method];
      if (method.startsWith('accounts.') || method.startsWith('chat.')) {
        // Reads only: `chat.write` takes a function and cannot cross a pipe.
        if (method === 'chat.write' || method === 'chat.epoch') return undefined;
        return methodAt(storage, method);
      }
      return undefined;
    };
  }
}

function answerOf(write: HostedWrite, path: string, args: unknown[]): Promise<unknown> {
  return new Promise((resolve, reject) =>
    write.push({
      kind: 'op',
      path,
      args,
      answer: (outcome) => (outcome.ok ? resolve(outcome.value) : reject(outcome.error)),
    }),
  );
}
