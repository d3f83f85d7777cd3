import { rangeOf } from './keys.js';
import type { LevelDb } from './staging.js';

type Snapshot = ReturnType<LevelDb['snapshot']>;

/** Bounds and direction of a range scan. */
export interface ScanRange {
  gt?: string;
  gte?: string;
  lt?: string;
  lte?: string;
  reverse?: boolean;
  limit?: number;
}

/**
 * Reads of committed data outside `write()`. A read made of several lookups runs on one LevelDB
 * snapshot, so it sees one commit: a batch written between two of its lookups stays invisible.
 */
export class SnapshotReader {
  constructor(
    private readonly db: LevelDb,
    private readonly snapshot: Snapshot,
  ) {}

  /** Runs `fn` on a snapshot of `db`, closing the snapshot afterwards. */
  static async read<T>(db: LevelDb, fn: (reader: SnapshotReader) => Promise<T>): Promise<T> {
    const snapshot = db.snapshot();
    try {
      return await fn(new SnapshotReader(db, snapshot));
    } finally {
      await snapshot.close();
    }
  }

  async get<T>(key: string): Promise<T | undefined> {
    return (await this.db.get(key, { snapshot: this.snapshot })) as T | undefined;
  }

  async getMany<T>(keys: string[]): Promise<Array<T | undefined>> {
    if (keys.length === 0) return [];
    return (await this.db.getMany(keys, { snapshot: this.snapshot })) as Array<T | undefined>;
  }

  /** Entries of the keys in `range`, in key order (or reverse). */
  async entries<T>(range: ScanRange): Promise<Array<[string, T]>> {
    const iterator = this.db.iterator({ ...definedOnly(range), snapshot: this.snapshot });
    return (await iterator.all()) as Array<[string, T]>;
  }

  /** Walks keys starting with `p` newest-key first, below `lt` when given, until `visit` says stop. */
  async walkBackwards<T>(
    p: string,
    lt: string | undefined,
    visit: (key: string, value: T) => Promise<boolean>,
  ): Promise<void> {
    const iterator = this.db.iterator({
      gte: p,
      lt: lt ?? rangeOf(p).lt,
      reverse: true,
      snapshot: this.snapshot,
    });
    try {
      for (;;) {
        const entry = await iterator.next();
        if (entry === undefined) return;
        if (!(await visit(entry[0], entry[1] as T))) return;
      }
    } finally {
      await iterator.close();
    }
  }
}

/** `range` without its undefined bounds (an undefined bound must not reach the iterator). */
function definedOnly(range: ScanRange): ScanRange {
  return Object.fromEntries(Object.entries(range).filter(([, value]) => value !== undefined));
}
