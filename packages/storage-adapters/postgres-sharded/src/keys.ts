import type { Message } from '@natter/protocol';
import { MESSAGE_COLUMNS, type MessageRow, toMessage } from '@natter/storage-postgres/internals';
import type { ShardServer } from './server.js';

const columns = MESSAGE_COLUMNS.split(', ')
  .map((c) => `m.${c}`)
  .join(', ');

/**
 * A sender's idempotency key looked up on every server (a write that names no channel yet): the
 * message, the sender's position in the local log of its server, and that server.
 */
export async function findClientMessage(
  servers: readonly ShardServer[],
  senderId: string,
  clientMsgId: string,
): Promise<{ message: Message; senderPos: number; server: number } | undefined> {
  const found = await Promise.all(
    servers.map(async (server) => {
      const [row] = await server.query<MessageRow & { sender_pos: number }>(
        `SELECT c.sender_pos, ${columns}
           FROM ${server.s}.client_msgs c
           JOIN ${server.s}.messages m ON m.channel_id = c.channel_id AND m.seq = c.seq
          WHERE c.sender_id = $1 AND c.client_msg_id = $2`,
        [senderId, clientMsgId],
      );
      return row && { message: toMessage(row), senderPos: row.sender_pos, server: server.index };
    }),
  );
  return found.find((f) => f !== undefined);
}

/** A mutation key looked up on every server (a write that names no channel yet). */
export async function findMutationKey(
  servers: readonly ShardServer[],
  userId: string,
  clientId: string,
): Promise<{ pos: number; server: number } | undefined> {
  const found = await Promise.all(
    servers.map(async (server) => {
      const [row] = await server.query<{ pos: number }>(
        `SELECT pos FROM ${server.s}.mutations WHERE user_id = $1 AND client_id = $2`,
        [userId, clientId],
      );
      return row && { pos: row.pos, server: server.index };
    }),
  );
  return found.find((f) => f !== undefined);
}
