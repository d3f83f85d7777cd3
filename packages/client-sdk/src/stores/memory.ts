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

// Values are copied in and out, so callers mutating what they passed or got never alter the store.
const copy = <T>(value: T): T => (value === undefined ? value : (JSON.parse(JSON.stringify(value)) as T));

/** An in-memory {@link OrderedKv}: a sorted key array beside a map. Writes of a transaction apply at commit. */
export class MemoryKv implements OrderedKv {
  private readonly values = new Map<string, unknown>();
  private readonly keys: string[] = [];
  private readonly mutex = new Mutex();

  async open(): Promise<void> {}

  async close(): Promise<void> {}

  transaction<T>(mode: 'readonly' | 'readwrite', fn: (tx: KvTransaction) => Promise<T>): Promise<T> {
    const run = async () => {
      const tx = new MemoryTransaction(this);
      const result = await fn(tx);
      if (mode === 'readwrite') this.apply(tx);
      return result;
    };
    return mode === 'readwrite' ? this.mutex.run(run) : run();
  }

  /** @internal */
  read(key: string): unknown {
    return copy(this.values.get(key));
  }

  /** @internal */
  scan(range: KvRange): KvEntry[] {
    const out: KvEntry[] = [];
    const limit = range.limit ?? Number.POSITIVE_INFINITY;
    if (range.reverse) {
      for (let i = this.lowerBound(range.lt) - 1; i >= 0 && out.length < limit; i--) {
        const key = this.keys[i]!;
        if (key < range.gte) break;
        out.push({ key, value: copy(this.values.get(key)) });
      }
    } else {
      for (let i = this.lowerBound(range.gte); i < this.keys.length && out.length < limit; i++) {
        const key = this.keys[i]!;
        if (key >= range.lt) break;
        out.push({ key, value: copy(this.values.get(key)) });
      }
    }
    return out;
  }

  private apply(tx: MemoryTransaction): void {
    for (const op of tx.ops) {
      if (op.type === 'put') {
        if (!this.values.has(op.key)) this.keys.splice(this.lowerBound(op.key), 0, op.key);
        this.values.set(op.key, copy(op.value));
      } else if (op.type === 'del') {
        if (!this.values.delete(op.key)) continue;
        this.keys.splice(this.lowerBound(op.key), 1);
      } else {
        const from = this.lowerBound(op.gte);
        const to = this.lowerBound(op.lt);
        for (const key of this.keys.splice(from, to - from)) this.values.delete(key);
      }
    }
  }

  /** Index of the first key `>= key`. */
  private lowerBound(key: string): number {
    let lo = 0;
    let hi = this.keys.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.keys[mid]! < key) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

class MemoryTransaction extends BufferedTransaction {
  constructor(private readonly kv: MemoryKv) {
    super();
  }

  protected async read(key: string): Promise<unknown> {
    return this.kv.read(key);
  }

  protected async readMany(keys: readonly string[]): Promise<unknown[]> {
    return keys.map((key) => this.kv.read(key));
  }

  async range(range: KvRange): Promise<KvEntry[]> {
    return this.kv.scan(range);
  }
}

/**
 * The default store: everything in memory, lost on reload. Useful for tests, servers-side bots and apps that
 * do not need offline data. Several clients may share one instance (e.g. to test lease exclusivity).
 */
export class MemoryStore extends KvClientStore {
  constructor(limits: Partial<CacheLimits> = {}) {
    super(new MemoryKv(), limits);
  }
}
