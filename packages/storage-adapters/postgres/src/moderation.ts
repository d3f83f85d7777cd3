import type {
  ModerationEntry,
  ModerationReads,
  ModerationRecord,
  ModerationWrites,
} from '@natter/server-core';
import type { QueryResultRow } from 'pg';
import type { NamedStatement, Statements } from './statements.js';

/** Above every key character (keys are ASCII id characters and `/`): the end of a prefix's range. */
const RANGE_END = '\x7f';

/** Runs one statement; `writes` tells the batch the call changed something. */
export type RunStatement = <R extends QueryResultRow>(
  statement: NamedStatement,
  values: unknown[],
  writes: boolean,
) => Promise<R[]>;

type Row = { key: string; record: string };

function entries(rows: readonly Row[]): ModerationEntry[] {
  return rows.map((row) => ({ key: row.key, record: JSON.parse(row.record) as ModerationRecord }));
}

function rangeValues(prefix: string, after: string | undefined, limit: number): unknown[] {
  return [prefix, after ?? '', prefix + RANGE_END, limit];
}

/** Committed moderation rows, on the pool (`chat.moderation`). */
export class PgModerationReads implements ModerationReads {
  constructor(
    private readonly sql: Statements,
    private readonly run: <R extends QueryResultRow>(
      statement: NamedStatement,
      values: unknown[],
    ) => Promise<R[]>,
  ) {}

  async get(key: string): Promise<ModerationRecord | undefined> {
    const [row] = await this.run<Row>(this.sql.moderationRow, [key]);
    return row && (JSON.parse(row.record) as ModerationRecord);
  }

  async list(prefix: string, after: string | undefined, limit: number): Promise<ModerationEntry[]> {
    return entries(await this.run<Row>(this.sql.moderationRange, rangeValues(prefix, after, limit)));
  }
}

/**
 * Moderation rows inside a write (`tx.moderation`). Several processes write one schema at once, so `get`
 * first takes a transaction-scoped advisory lock on the key and only then reads (a statement of its own:
 * under READ COMMITTED that read sees whatever a transaction holding the lock before committed). Two
 * transactions that check and write one key therefore run one after the other.
 */
export class PgModerationWrites implements ModerationWrites {
  constructor(
    private readonly sql: Statements,
    private readonly run: RunStatement,
  ) {}

  async get(key: string): Promise<ModerationRecord | undefined> {
    await this.run(this.sql.lockModerationKey, [key], false);
    const [row] = await this.run<Row>(this.sql.moderationRow, [key], false);
    return row && (JSON.parse(row.record) as ModerationRecord);
  }

  async list(prefix: string, after: string | undefined, limit: number): Promise<ModerationEntry[]> {
    return entries(await this.run<Row>(this.sql.moderationRange, rangeValues(prefix, after, limit), false));
  }

  async put(key: string, record: ModerationRecord): Promise<void> {
    await this.run(this.sql.putModeration, [key, JSON.stringify(record)], true);
  }

  async delete(key: string): Promise<boolean> {
    return (await this.run(this.sql.deleteModeration, [key], true)).length > 0;
  }
}
