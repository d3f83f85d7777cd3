import type {
  ModerationEntry,
  ModerationReads,
  ModerationRecord,
  ModerationWrites,
} from '@natter/server-core';
import type { ReadStatements, WriteStatements } from './statements.js';

/** Above every key character (keys are ASCII id characters and `/`): the end of a prefix's range. */
const RANGE_END = '\x7f';

function rangeOf(
  r: ReadStatements,
  prefix: string,
  after: string | undefined,
  limit: number,
): ModerationEntry[] {
  return r.moderationRange
    .all(prefix, after ?? '', prefix + RANGE_END, limit)
    .map((row) => ({ key: row.key, record: JSON.parse(row.record) as ModerationRecord }));
}

function rowOf(r: ReadStatements, key: string): ModerationRecord | undefined {
  const row = r.moderationRow.get(key);
  return row && (JSON.parse(row.record) as ModerationRecord);
}

/** Committed moderation rows, on the read-only connection (`chat.moderation`). */
export class SqliteModerationReads implements ModerationReads {
  constructor(private readonly read: <T>(fn: (r: ReadStatements) => T) => Promise<T>) {}

  get(key: string): Promise<ModerationRecord | undefined> {
    return this.read((r) => rowOf(r, key));
  }

  list(prefix: string, after: string | undefined, limit: number): Promise<ModerationEntry[]> {
    return this.read((r) => rangeOf(r, prefix, after, limit));
  }
}

/**
 * Moderation rows inside a write batch (`tx.moderation`). One process writes a SQLite file at a time
 * (`BEGIN IMMEDIATE`), so a read here is serialised with every other write of the key.
 */
export class SqliteModerationWrites implements ModerationWrites {
  constructor(
    private readonly reads: ReadStatements,
    private readonly writes: WriteStatements,
    private readonly markWritten: () => void,
    private readonly assertActive: () => void,
  ) {}

  async get(key: string): Promise<ModerationRecord | undefined> {
    this.assertActive();
    return rowOf(this.reads, key);
  }

  async list(prefix: string, after: string | undefined, limit: number): Promise<ModerationEntry[]> {
    this.assertActive();
    return rangeOf(this.reads, prefix, after, limit);
  }

  async put(key: string, record: ModerationRecord): Promise<void> {
    this.assertActive();
    this.markWritten();
    this.writes.putModeration.run(key, JSON.stringify(record));
  }

  async delete(key: string): Promise<boolean> {
    this.assertActive();
    this.markWritten();
    return this.writes.deleteModeration.run(key).changes > 0;
  }
}
