import type { CacheLimits } from '../store.js';
import type { KvEntry, KvRange, KvTransaction, OrderedKv } from './kv.js';
import { KvClientStore } from './kv-store.js';

// The few IndexedDB types used, declared here so the core compiles without the DOM library.
interface IdbRequest<T = unknown> {
  readonly result: T;
  readonly error: unknown;
  onsuccess: ((event: never) => void) | null;
  onerror: ((event: never) => void) | null;
}
interface IdbOpenRequest extends IdbRequest<IdbDatabase> {
  onupgradeneeded: ((event: never) => void) | null;
  onblocked: ((event: never) => void) | null;
}
interface IdbCursorWithValue {
  readonly key: unknown;
  readonly value: unknown;
  continue(): void;
}
interface IdbObjectStore {
  get(key: string): IdbRequest;
  put(value: unknown, key: string): IdbRequest;
  delete(query: unknown): IdbRequest;
  getAll(query: unknown, count?: number): IdbRequest<unknown[]>;
  getAllKeys(query: unknown, count?: number): IdbRequest<unknown[]>;
  openCursor(query: unknown, direction: 'next' | 'prev'): IdbRequest<IdbCursorWithValue | null>;
}
interface IdbTransactionLike {
  readonly error: unknown;
  objectStore(name: string): IdbObjectStore;
  abort(): void;
  oncomplete: ((event: never) => void) | null;
  onabort: ((event: never) => void) | null;
  onerror: ((event: never) => void) | null;
}
interface IdbDatabase {
  readonly objectStoreNames: { contains(name: string): boolean };
  transaction(names: string[], mode: 'readonly' | 'readwrite'): IdbTransactionLike;
  createObjectStore(name: string): unknown;
  close(): void;
  onversionchange: ((event: never) => void) | null;
}
/** The `indexedDB` factory (global in browsers and workers). */
export interface IdbFactoryLike {
  open(name: string, version?: number): IdbOpenRequest;
}
/** The `IDBKeyRange` constructor (global in browsers and workers). */
export interface IdbKeyRangeLike {
  bound(lower: string, upper: string, lowerOpen?: boolean, upperOpen?: boolean): unknown;
}

const STORE = 'kv';
const VERSION = 1;

function request<T>(req: IdbRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

/** An {@link OrderedKv} on raw IndexedDB: one object store of string keys; a readwrite transaction per write. */
export class IndexedDbKv implements OrderedKv {
  private db: IdbDatabase | undefined;
  private opening: Promise<IdbDatabase> | undefined;

  constructor(
    private readonly name: string,
    private readonly factory: IdbFactoryLike,
    private readonly keyRange: IdbKeyRangeLike,
  ) {}

  async open(): Promise<void> {
    await this.database();
  }

  async close(): Promise<void> {
    const db = this.db;
    this.db = undefined;
    this.opening = undefined;
    db?.close();
  }

  async transaction<T>(mode: 'readonly' | 'readwrite', fn: (tx: KvTransaction) => Promise<T>): Promise<T> {
    const db = await this.database();
    return new Promise<T>((resolve, reject) => {
      const txn = db.transaction([STORE], mode);
      let result: T;
      let failure: unknown;
      txn.oncomplete = () => (failure === undefined ? resolve(result) : reject(failure));
      // Quota errors surface here, as the transaction's error (a QuotaExceededError DOMException).
      txn.onabort = () => reject(failure ?? txn.error ?? new Error('IndexedDB transaction aborted'));
      fn(new IdbTransaction(txn.objectStore(STORE), this.keyRange)).then(
        (value) => {
          result = value;
        },
        (err: unknown) => {
          failure = err ?? new Error('transaction failed');
          try {
            txn.abort();
          } catch {
            // Already finished: oncomplete/onabort reports it.
          }
        },
      );
    });
  }

  private database(): Promise<IdbDatabase> {
    if (this.db) return Promise.resolve(this.db);
    this.opening ??= new Promise<IdbDatabase>((resolve, reject) => {
      const req = this.factory.open(this.name, VERSION);
      req.onupgradeneeded = () => {
        if (!req.result.objectStoreNames.contains(STORE)) req.result.createObjectStore(STORE);
      };
      req.onsuccess = () => {
        const db = req.result;
        // Another tab upgrading the schema: step aside instead of blocking it.
        db.onversionchange = () => {
          db.close();
          if (this.db === db) {
            this.db = undefined;
            this.opening = undefined;
          }
        };
        this.db = db;
        resolve(db);
      };
      req.onerror = () => {
        this.opening = undefined;
        reject(req.error);
      };
    });
    return this.opening;
  }
}

class IdbTransaction implements KvTransaction {
  constructor(
    private readonly store: IdbObjectStore,
    private readonly keyRange: IdbKeyRangeLike,
  ) {}

  get(key: string): Promise<unknown> {
    return request(this.store.get(key));
  }

  getMany(keys: readonly string[]): Promise<unknown[]> {
    return Promise.all(keys.map((key) => request(this.store.get(key))));
  }

  async range(range: KvRange): Promise<KvEntry[]> {
    const bound = this.keyRange.bound(range.gte, range.lt, false, true);
    if (!range.reverse) {
      const [keys, values] = await Promise.all([
        request(this.store.getAllKeys(bound, range.limit)),
        request(this.store.getAll(bound, range.limit)),
      ]);
      return keys.map((key, i) => ({ key: String(key), value: values[i] }));
    }
    const limit = range.limit ?? Number.POSITIVE_INFINITY;
    return new Promise((resolve, reject) => {
      const out: KvEntry[] = [];
      const req = this.store.openCursor(bound, 'prev');
      req.onsuccess = () => {
        const cursor = req.result;
        if (!cursor || out.length >= limit) return resolve(out);
        out.push({ key: String(cursor.key), value: cursor.value });
        cursor.continue();
      };
      req.onerror = () => reject(req.error);
    });
  }

  put(key: string, value: unknown): void {
    this.store.put(value, key);
  }

  del(key: string): void {
    this.store.delete(key);
  }

  delRange(range: { gte: string; lt: string }): void {
    this.store.delete(this.keyRange.bound(range.gte, range.lt, false, true));
  }
}

/** Options of {@link IndexedDbStore}. */
export interface IndexedDbStoreOptions extends Partial<CacheLimits> {
  /** Database name; use one per account if several accounts share a browser profile. @default 'natter' */
  name?: string;
  /** @default globalThis.indexedDB */
  indexedDB?: IdbFactoryLike;
  /** @default globalThis.IDBKeyRange */
  IDBKeyRange?: IdbKeyRangeLike;
}

/**
 * A durable browser store on raw IndexedDB. Tabs of one origin share it; leases taken in readwrite
 * transactions keep two tabs from sending the same pending message.
 */
export class IndexedDbStore extends KvClientStore {
  constructor(options: IndexedDbStoreOptions = {}) {
    const globals = globalThis as { indexedDB?: IdbFactoryLike; IDBKeyRange?: IdbKeyRangeLike };
    const factory = options.indexedDB ?? globals.indexedDB;
    const keyRange = options.IDBKeyRange ?? globals.IDBKeyRange;
    if (!factory || !keyRange)
      throw new TypeError('IndexedDB is not available in this runtime; pass another store');
    const { name, indexedDB: _f, IDBKeyRange: _k, ...limits } = options;
    super(new IndexedDbKv(name ?? 'natter', factory, keyRange), limits);
  }
}
