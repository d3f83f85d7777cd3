import type { CacheLimits } from '../../src/store.js';
import type { KvEntry, KvRange, KvTransaction, OrderedKv } from '../../src/stores/kv.js';
import { KvClientStore } from '../../src/stores/kv-store.js';
import { MemoryKv } from '../../src/stores/memory.js';

/** What browsers throw when storage is full. */
export function quotaError(): Error {
  return Object.assign(new Error('The quota has been exceeded.'), { name: 'QuotaExceededError', code: 22 });
}

/**
 * A key-value backend with a quota: a write transaction that would leave more than `capacity` keys fails
 * with QuotaExceededError and changes nothing. `failAll` makes every write fail (a broken disk), `failPrefix`
 * every write touching keys with that prefix.
 */
export class QuotaKv implements OrderedKv {
  readonly inner = new MemoryKv();
  capacity = Number.POSITIVE_INFINITY;
  failAll = false;
  failPrefix: string | undefined;
  failures = 0;

  open(): Promise<void> {
    return this.inner.open();
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  transaction<T>(mode: 'readonly' | 'readwrite', fn: (tx: KvTransaction) => Promise<T>): Promise<T> {
    return this.inner.transaction(mode, async (tx) => {
      const puts: string[] = [];
      const dels: string[] = [];
      const ranges: { gte: string; lt: string }[] = [];
      const recorder: KvTransaction = {
        get: (key) => tx.get(key),
        getMany: (keys) => tx.getMany(keys),
        range: (range: KvRange): Promise<KvEntry[]> => tx.range(range),
        put: (key, value) => {
          puts.push(key);
          tx.put(key, value);
        },
        del: (key) => {
          dels.push(key);
          tx.del(key);
        },
        delRange: (range) => {
          ranges.push(range);
          tx.delRange(range);
        },
      };
      const result = await fn(recorder);
      if (mode === 'readwrite' && puts.length > 0) {
        const touchesPrefix =
          this.failPrefix !== undefined && puts.some((k) => k.startsWith(this.failPrefix!));
        let exceeds = false;
        if (Number.isFinite(this.capacity)) {
          const keys = new Set((await tx.range({ gte: '', lt: '\uffff' })).map((e) => e.key));
          for (const r of ranges) for (const k of [...keys]) if (k >= r.gte && k < r.lt) keys.delete(k);
          for (const k of dels) keys.delete(k);
          for (const k of puts) keys.add(k);
          exceeds = keys.size > this.capacity;
        }
        if (this.failAll || touchesPrefix || exceeds) {
          this.failures++;
          // Throwing inside the transaction aborts it: nothing is applied.
          throw quotaError();
        }
      }
      return result;
    });
  }
}

/** A {@link KvClientStore} over a {@link QuotaKv}. */
export class QuotaStore extends KvClientStore {
  readonly quota: QuotaKv;

  constructor(kv: QuotaKv = new QuotaKv(), limits: Partial<CacheLimits> = {}) {
    super(kv, limits);
    this.quota = kv;
  }
}
