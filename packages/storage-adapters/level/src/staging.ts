import type { Level } from 'level';
import { rangeOf } from './keys.js';

/** The database as the adapter opens it: UTF-8 string keys, JSON values. */
export type LevelDb = Level<string, unknown>;

/** Marks a staged deletion. */
const DELETED = Symbol('deleted');

/** One put or del of a LevelDB batch. */
export type BatchOperation = { type: 'put'; key: string; value: unknown } | { type: 'del'; key: string };

/** Puts and dels not yet written: of one `write()` call, or of a whole group-commit batch. */
export class Changes {
  private readonly entries = new Map<string, unknown>();

  get size(): number {
    return this.entries.size;
  }

  put(key: string, value: unknown): void {
    this.entries.set(key, value);
  }

  del(key: string): void {
    this.entries.set(key, DELETED);
  }

  /** `{ found: true, value }` when the key is staged (value undefined for a staged deletion). */
  lookup(key: string): { found: boolean; value?: unknown } {
    if (!this.entries.has(key)) return { found: false };
    const value = this.entries.get(key);
    return { found: true, value: value === DELETED ? undefined : value };
  }

  /** Staged keys starting with `p`, with their values (undefined for deletions). */
  *withPrefix(p: string): Generator<[string, unknown]> {
    for (const [key, value] of this.entries) {
      if (key.startsWith(p)) yield [key, value === DELETED ? undefined : value];
    }
  }

  /** Applies `later` on top of these changes (a call that succeeded joins its batch). */
  absorb(later: Changes): void {
    for (const [key, value] of later.entries) this.entries.set(key, value);
  }

  /** The changes as LevelDB batch operations. */
  operations(): BatchOperation[] {
    return [...this.entries].map(([key, value]) =>
      value === DELETED ? { type: 'del', key } : { type: 'put', key, value },
    );
  }
}

/**
 * What one `write()` call reads and writes: its own changes, over the changes of the calls before it
 * in the same batch, over the committed database. Writes go to its own changes only, so dropping
 * them is the rollback. Values read from the staged layers are copied: the caller may mutate them.
 */
export class StagedView {
  readonly own = new Changes();

  constructor(
    private readonly db: LevelDb,
    private readonly batch: Changes,
  ) {}

  async get<T>(key: string): Promise<T | undefined> {
    for (const layer of [this.own, this.batch]) {
      const staged = layer.lookup(key);
      if (staged.found) return staged.value === undefined ? undefined : (structuredClone(staged.value) as T);
    }
    return (await this.db.get(key)) as T | undefined;
  }

  /** Values of every key starting with `p` (ending with `!`), in key order. */
  async range<T>(p: string): Promise<T[]> {
    return (await this.entries(p)).map(([, value]) => structuredClone(value) as T);
  }

  /** Every key starting with `p` (ending with `!`), in key order. */
  async rangeKeys(p: string): Promise<string[]> {
    return (await this.entries(p)).map(([key]) => key);
  }

  /**
   * Keys and values of every key from `p` (inclusive) up to `lt` (exclusive), in key order: for key
   * ranges whose parts are not `!`-separated (the moderation keys).
   */
  async scan<T>(p: string, lt: string): Promise<Array<[string, T]>> {
    return (await this.entries(p, lt)).map(([k, value]) => [k, structuredClone(value) as T]);
  }

  private async entries(p: string, lt = rangeOf(p).lt): Promise<Array<[string, unknown]>> {
    const merged = new Map<string, unknown>(await this.db.iterator({ gte: p, lt }).all());
    for (const layer of [this.batch, this.own]) {
      for (const [key, value] of layer.withPrefix(p)) if (key < lt) merged.set(key, value);
    }
    return [...merged]
      .filter(([, value]) => value !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  }

  put(key: string, value: unknown): void {
    this.own.put(key, value);
  }

  del(key: string): void {
    this.own.del(key);
  }
}
