import type { SyncEntry } from '@natter/protocol';
import { MESSAGE_COLUMNS, type MessageRow, toSyncEntry } from '@natter/storage-postgres/internals';
import type { ShardServer } from './server.js';
import type { ShardedTxDeps } from './sharded-tx.js';

interface UserLogRow {
  pos: number;
  channel_id: string;
  seq: number;
  entry: string | null;
}

/** The user's newest position in their log (on their server). */
export async function userHead(server: ShardServer, userId: string): Promise<number> {
  const [row] = await server.query<{ head: number }>(
    `SELECT head FROM ${server.s}.shard_sync_heads WHERE user_id = $1`,
    [userId],
  );
  return row?.head ?? 0;
}

/**
 * Entries of a user's log after `after`: the log rows from the user's server, the messages they point
 * at from their channels' servers (one read per server), joined like the PostgreSQL adapter's sync
 * read, so an edit or a delete entry carries the message as it is now.
 */
export async function readUserLog(
  deps: ShardedTxDeps,
  server: ShardServer,
  userId: string,
  after: number,
  limit: number,
): Promise<SyncEntry[]> {
  const count = Math.max(0, Math.floor(limit));
  if (count === 0) return [];
  const rows = await server.query<UserLogRow>(
    `SELECT pos, channel_id, seq, entry FROM ${server.s}.shard_sync_log
      WHERE user_id = $1 AND pos > $2 ORDER BY pos LIMIT $3`,
    [userId, Math.floor(after), count],
  );
  const byServer = new Map<number, UserLogRow[]>();
  for (const row of rows) {
    const index = deps.map.serverOf(row.channel_id);
    byServer.set(index, [...(byServer.get(index) ?? []), row]);
  }
  const messages = new Map<string, MessageRow>();
  await Promise.all(
    [...byServer].map(async ([index, list]) => {
      const source = deps.servers[index]!;
      const found = await source.query<MessageRow>(
        `SELECT ${MESSAGE_COLUMNS} FROM ${source.s}.messages
          WHERE (channel_id, seq) IN (SELECT * FROM unnest($1::text[], $2::bigint[]))`,
        [list.map((r) => r.channel_id), list.map((r) => r.seq)],
      );
      for (const m of found) messages.set(`${m.seq}:${m.channel_id}`, m);
    }),
  );
  return rows.map((row) => {
    const message = messages.get(`${row.seq}:${row.channel_id}`);
    if (!message) throw new Error(`sync entry ${row.pos} of ${userId} names a message that is not stored`);
    return toSyncEntry({ ...message, pos: row.pos, entry: row.entry });
  });
}
