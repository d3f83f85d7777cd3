import type { ChannelRecord, MemberRecord } from '@natter/server-core';
import {
  CHANNEL_COLUMNS,
  type ChannelMemberRow,
  toChannelWithMember,
} from '@natter/storage-postgres/internals';
import type { ShardServer } from './server.js';

const prefixed = CHANNEL_COLUMNS.split(', ')
  .map((c) => `c.${c}`)
  .join(', ');

/**
 * A user's channels from every server at once, merged newest activity first (the order of the
 * PostgreSQL adapter: last activity, then creation, then id).
 */
export async function channelsOf(
  servers: readonly ShardServer[],
  userId: string,
): Promise<Array<{ channel: ChannelRecord; member: MemberRecord }>> {
  const pages = await Promise.all(
    servers.map((server) =>
      server.query<ChannelMemberRow & { last_activity_at: number }>(
        `SELECT ${prefixed}, c.last_activity_at,
                mb.role AS m_role, mb.joined_at AS m_joined_at, mb.joined_seq AS m_joined_seq,
                mb.read_seq AS m_read_seq, mb.delivered_seq AS m_delivered_seq
           FROM ${server.s}.members mb JOIN ${server.s}.channels c ON c.id = mb.channel_id
          WHERE mb.user_id = $1`,
        [userId],
      ),
    ),
  );
  return pages
    .flat()
    .sort(
      (a, b) =>
        b.last_activity_at - a.last_activity_at ||
        b.created_at - a.created_at ||
        (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
    )
    .map((row) => toChannelWithMember(row, userId));
}
