import { isRetryable } from '@natter/storage-postgres/internals';
import type { ShardServer } from './server.js';

/** Most local entries one copy transaction moves (a longer backlog takes several). */
const COPY_LIMIT = 5_000;
/** Attempts of a copy that PostgreSQL aborts for a deadlock. */
const COPY_ATTEMPTS = 5;

/** What one user got from one copy: local position -> position in the user's log, and the cursor after. */
export interface UserCopy {
  copied: number;
  positions: Map<number, number>;
}

/** How a copy treats a user whose cursor another transaction holds: wait for it, or leave the user. */
export type LockMode = 'wait' | 'skipLocked';

interface LocalEntryRow {
  user_id: string;
  pos: number;
  channel_id: string;
  seq: number;
  entry: string | null;
}

/**
 * Copies the pending local sync entries of `users` (all on `dest`) from `source`'s local log into the
 * users' logs on `dest`, in local order, allocating each user's next positions. The cursor rows of
 * (source, user) are locked first and advanced in the same transaction, so each local entry is copied
 * exactly once whatever crashes or runs concurrently. Loops until no entry is pending (or, with
 * `skipLocked`, until the users another transaction holds are all that is left).
 */
export async function copyEntries(
  source: ShardServer,
  dest: ShardServer,
  users: readonly string[],
  lock: LockMode,
): Promise<Map<string, UserCopy>> {
  const result = new Map<string, UserCopy>();
  const sorted = [...new Set(users)].sort();
  for (;;) {
    const limited = await copyOnce(source, dest, sorted, lock, result);
    if (!limited) return result;
  }
}

async function copyOnce(
  source: ShardServer,
  dest: ShardServer,
  users: readonly string[],
  lock: LockMode,
  result: Map<string, UserCopy>,
): Promise<boolean> {
  const d = dest.s;
  // Read first, without holding a connection of `dest` while waiting for `source` (two servers'
  // rounds would otherwise hold each other's pools): the cursors as they are, then the entries after
  // them. The locked cursors below may have moved on since; entries up to them are left out.
  const seen = await dest.query<{ user_id: string; copied: number }>(
    `SELECT u AS user_id, coalesce(c.copied, 0) AS copied
       FROM unnest($2::text[]) AS u
       LEFT JOIN ${d}.shard_fanout_cursors c ON c.source = $1 AND c.user_id = u`,
    [source.index, users],
  );
  const read = await source.query<LocalEntryRow>(
    `SELECT l.user_id, l.pos, l.channel_id, l.seq, l.entry
       FROM unnest($1::text[], $2::bigint[]) AS c(user_id, copied)
       JOIN ${source.s}.sync_log l ON l.user_id = c.user_id AND l.pos > c.copied
      ORDER BY l.user_id, l.pos LIMIT $3`,
    [seen.map((c) => c.user_id), seen.map((c) => c.copied), COPY_LIMIT],
  );
  for (const c of seen) {
    if (!result.has(c.user_id)) result.set(c.user_id, { copied: c.copied, positions: new Map() });
  }
  if (read.length === 0) return false;
  for (let attempt = 1; ; attempt++) {
    try {
      // One statement (shard_copy_in, schema.ts): lock the cursors, append what lies after them,
      // advance them. Its implicit transaction commits when it returns.
      const copied = await dest.query<{ user_id: string; source_pos: number; pos: number }>(
        `SELECT user_id, source_pos, pos FROM ${d}.shard_copy_in($1, $2::text[], $3::bigint[], $4::text[],
                $5::bigint[], $6::text[], $7)`,
        [
          source.index,
          read.map((r) => r.user_id),
          read.map((r) => r.pos),
          read.map((r) => r.channel_id),
          read.map((r) => r.seq),
          read.map((r) => r.entry),
          lock === 'skipLocked',
        ],
      );
      // Recorded only once the statement committed: a failed attempt leaves `result` as it was.
      for (const row of copied) {
        const copy = result.get(row.user_id)!;
        copy.positions.set(row.source_pos, row.pos);
        copy.copied = Math.max(copy.copied, row.source_pos);
      }
      return copied.length > 0 && read.length === COPY_LIMIT;
    } catch (error) {
      if (attempt >= COPY_ATTEMPTS || !isRetryable(error)) throw error;
    }
  }
}

/**
 * The positions in the users' logs of local entries copied earlier (by any process): `(user, local
 * position)` -> position. Entries not copied yet are absent.
 */
export async function lookUpCopies(
  source: ShardServer,
  dest: ShardServer,
  wanted: ReadonlyArray<{ userId: string; localPos: number }>,
): Promise<Map<string, number>> {
  if (wanted.length === 0) return new Map();
  const rows = await dest.query<{ user_id: string; source_pos: number; pos: number }>(
    `SELECT l.user_id, l.source_pos, l.pos
       FROM unnest($2::text[], $3::bigint[]) AS w(user_id, source_pos)
       JOIN ${dest.s}.shard_sync_log l
         ON l.user_id = w.user_id AND l.source = $1 AND l.source_pos = w.source_pos`,
    [source.index, wanted.map((w) => w.userId), wanted.map((w) => w.localPos)],
  );
  return new Map(rows.map((r) => [copyKey(r.user_id, r.source_pos), r.pos]));
}

/** Key of a (user, local position) pair in maps. */
export const copyKey = (userId: string, localPos: number) => `${localPos}:${userId}`;
