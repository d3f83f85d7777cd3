import { Level } from 'level';
import type { CacheLimits } from '../store.js';
import {
  BufferedTransaction,
  type KvEntry,
  type KvRange,
  type KvTransaction,
  Mutex,
  type OrderedKv,
} from './kv.js';
import { KvClientStore } from './kv-store.js';

type Db = Level<string, unknown>;

// LevelDB allows one process per directory (LOCK file), so one mutex per database object makes
// read-modify-write transactions (leases, cache bounds) atomic for every client sharing it.
const mutexes = new WeakMap<Db, Mutex>();

function mutexOf(db: Db): Mutex {
  let mutex = mutexes.get(db);
  if (!mutex) {
    mutex = new Mutex();
    mutexes.set(db, mutex);
  }
  return mutex;
}

/** An {@link OrderedKv} over a `level` database (LevelDB in Node): a per-process mutex and one atomic batch per transaction. */
export class LevelKv implements OrderedKv {
  /** The underlying database. */
  readonly db: Db;

  /** @param location a directory path, or an existing `Level` database opened with `valueEncoding: 'json'`. */
  constructor(location: string | Db) {
    this.db =
      typeof location === 'string'
        ? new Level<string, unknown>(location, { valueEncoding: 'json' })
        : location;
  }

  async open(): Promise<void> {
    if (this.db.status !== 'open') await this.db.open();
  }

  async close(): Promise<void> {
    if (this.db.status === 'open' || this.db.status === 'opening') await this.db.close();
  }

  transaction<T>(mode: 'readonly' | 'readwrite', fn: (tx: KvTransaction) => Promise<T>): Promise<T> {
    if (mode === 'readonly') return fn(new LevelTransaction(this.db));
    return mutexOf(this.db).run(async () => {
      const tx = new LevelTransaction(this.db);
      const result = await fn(tx);
      await this.commit(tx);
      return result;
    });
  }

  private async commit(tx: LevelTransaction): Promise<void> {
    if (tx.ops.length === 0) return;
    const batch: ({ type: 'put'; key: string; value: unknown } | { type: 'del'; key: string })[] = [];
    for (const op of tx.ops) {
      if (op.type === 'delRange') {
        // Range deletes become key deletes so the whole transaction stays one atomic batch.
        const keys = await this.db.keys({ gte: op.gte, lt: op.lt }).all();
        for (const key of keys) batch.push({ type: 'del', key });
      } else {
        batch.push(op);
      }
    }
    await this.db.batch(batch);
  }
}

class LevelTransaction extends BufferedTransaction {
  constructor(private readonly db: Db) {
    super();
  }

  protected read(key: string): Promise<unknown> {
    return this.db.get(key);
  }

  protected readMany(keys: readonly string[]): Promise<unknown[]> {
    return keys.length === 0 ? Promise.resolve([]) : this.db.getMany([...keys]);
  }

  async range(range: KvRange): Promise<KvEntry[]> {
    const rows = await this.db
      .iterator({
        gte: range.gte,
        lt: range.lt,
        reverse: range.reverse ?? false,
        ...(range.limit !== undefined ? { limit: range.limit } : {}),
      })
      .all();
    return rows.map(([key, value]) => ({ key, value }));
  }
}

/**
 * A durable store for Node (and Electron's main process) on LevelDB through `level`. Import it from
 * `@natter/client/level` so browser bundles never include it. One directory per device; several clients in
 * one process may share one instance, and leases keep them from sending the same pending message.
 */
export class LevelStore extends KvClientStore {
  /** @param location a directory path, or an existing `Level` database opened with `valueEncoding: 'json'`. */
  constructor(location: string | Level<string, unknown>, limits: Partial<CacheLimits> = {}) {
    super(new LevelKv(location), limits);
  }
}
