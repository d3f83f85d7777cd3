/** One key and its value. */
export interface KvEntry {
  key: string;
  value: unknown;
}

/** A key range `[gte, lt)`, ascending unless `reverse`, at most `limit` entries. */
export interface KvRange {
  gte: string;
  lt: string;
  reverse?: boolean;
  limit?: number;
}

/**
 * The operations of one transaction. Writes are queued and take effect at commit, all or nothing; `get`
 * and `getMany` see the transaction's own queued writes, `range` does not (callers read before they write).
 */
export interface KvTransaction {
  get(key: string): Promise<unknown>;
  getMany(keys: readonly string[]): Promise<unknown[]>;
  range(range: KvRange): Promise<KvEntry[]>;
  put(key: string, value: unknown): void;
  del(key: string): void;
  /** Deletes every key in `[gte, lt)`. */
  delRange(range: { gte: string; lt: string }): void;
}

/**
 * An ordered string-keyed store with atomic transactions: the only thing a storage backend implements.
 * `readwrite` transactions never interleave with each other on the same data (a mutex in one process,
 * an IndexedDB readwrite transaction across tabs). The callback must await nothing but the transaction's
 * own methods: IndexedDB commits a transaction as soon as it is left idle.
 */
export interface OrderedKv {
  open(): Promise<void>;
  close(): Promise<void>;
  transaction<T>(mode: 'readonly' | 'readwrite', fn: (tx: KvTransaction) => Promise<T>): Promise<T>;
}

/** A queued write of a buffered transaction. */
export type KvOp =
  | { type: 'put'; key: string; value: unknown }
  | { type: 'del'; key: string }
  | { type: 'delRange'; gte: string; lt: string };

/**
 * Shared part of backends that buffer writes until commit (memory, level): the write queue, and reads
 * that see the queued writes.
 */
export abstract class BufferedTransaction implements KvTransaction {
  readonly ops: KvOp[] = [];
  private readonly overlay = new Map<string, { value: unknown } | undefined>();

  protected abstract read(key: string): Promise<unknown>;
  protected abstract readMany(keys: readonly string[]): Promise<unknown[]>;
  abstract range(range: KvRange): Promise<KvEntry[]>;

  async get(key: string): Promise<unknown> {
    const local = this.localValue(key);
    return local ? local.value : this.read(key);
  }

  async getMany(keys: readonly string[]): Promise<unknown[]> {
    const stored = await this.readMany(keys);
    return keys.map((key, i) => {
      const local = this.localValue(key);
      return local ? local.value : stored[i];
    });
  }

  put(key: string, value: unknown): void {
    this.ops.push({ type: 'put', key, value });
    this.overlay.set(key, { value });
  }

  del(key: string): void {
    this.ops.push({ type: 'del', key });
    this.overlay.set(key, { value: undefined });
  }

  delRange(range: { gte: string; lt: string }): void {
    this.ops.push({ type: 'delRange', gte: range.gte, lt: range.lt });
    for (const key of this.overlay.keys()) {
      if (key >= range.gte && key < range.lt) this.overlay.set(key, { value: undefined });
    }
    this.rangeDeleted.push(range);
  }

  private readonly rangeDeleted: { gte: string; lt: string }[] = [];

  private localValue(key: string): { value: unknown } | undefined {
    const local = this.overlay.get(key);
    if (local) return local;
    return this.rangeDeleted.some((r) => key >= r.gte && key < r.lt) ? { value: undefined } : undefined;
  }
}

/** A simple promise mutex: runs tasks one at a time, in call order. */
export class Mutex {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(task: () => Promise<T>): Promise<T> {
    const result = this.tail.then(task, task);
    this.tail = result.catch(() => undefined);
    return result;
  }
}

/** The range of every key starting with `prefix` (which must end with `!`). */
export function prefixRange(prefix: string): { gte: string; lt: string } {
  // '"' is the character after '!', so the range ends right after the last key with this prefix.
  return { gte: prefix, lt: `${prefix.slice(0, -1)}"` };
}
