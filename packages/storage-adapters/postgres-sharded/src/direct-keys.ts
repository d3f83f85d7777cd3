import { ErrorCode, NatterError } from '@natter/server-core';
import { RestartWrite } from './part.js';
import type { ShardServer } from './server.js';
import type { ShardMap } from './shard-map.js';
import type { WriteAttempt } from './write-attempt.js';

/** A claim older than this whose channel does not exist was left by a write that never committed. */
const STALE_CLAIM_MS = 30_000;
/** How long a write waits before looking again at a claim a write in flight holds. */
const CLAIM_RETRY_MS = 50;

/**
 * The direct-key directory: a direct channel is found by its pair of users (`a|b`) before its id is
 * known, so the key -> channel id row lives on the key's own server. A new direct channel claims its
 * key there (committed at once, before the channel's own write commits); a claim whose channel never
 * appears (its write failed or its process died) is taken over once stale.
 */
export class DirectKeys {
  constructor(
    private readonly servers: readonly ShardServer[],
    private readonly map: ShardMap,
    private readonly now: () => number,
  ) {}

  private serverOfKey(directKey: string): ShardServer {
    return this.servers[this.map.serverOf(directKey)]!;
  }

  /** The channel id claimed for `directKey`, if any (its channel may not be committed yet). */
  async find(directKey: string): Promise<string | undefined> {
    const server = this.serverOfKey(directKey);
    const [row] = await server.query<{ channel_id: string }>(
      `SELECT channel_id FROM ${server.s}.shard_direct_keys WHERE direct_key = $1`,
      [directKey],
    );
    return row?.channel_id;
  }

  /**
   * Claims `directKey` for `channelId`, or throws: {@link RestartWrite} while another channel's write
   * may still commit (the write runs again and finds that channel), CONFLICT when it exists, unless
   * `lookedUpAbsent`: the write found no channel for the key earlier, so the one that exists now was
   * committed since, and the write runs again to find it.
   */
  async claim(
    attempt: WriteAttempt,
    directKey: string,
    channelId: string,
    lookedUpAbsent = false,
  ): Promise<void> {
    const server = this.serverOfKey(directKey);
    const s = server.s;
    const claimed = await server.query<{ channel_id: string; claimed_at: number }>(
      `INSERT INTO ${s}.shard_direct_keys AS k (direct_key, channel_id, claimed_at) VALUES ($1, $2, $3)
       ON CONFLICT (direct_key) DO UPDATE SET direct_key = k.direct_key
       RETURNING channel_id, claimed_at`,
      [directKey, channelId, this.now()],
    );
    const holder = claimed[0]!;
    if (holder.channel_id === channelId) {
      attempt.onAbort(() => this.release(directKey, channelId));
      return;
    }
    const channelServer = this.servers[this.map.serverOf(holder.channel_id)]!;
    const exists = await channelServer.guard(() => channelServer.adapter.chat.getChannel(holder.channel_id));
    if (exists && lookedUpAbsent)
      throw new RestartWrite(`direct key ${directKey} was taken after this write looked`);
    if (exists) throw new NatterError(ErrorCode.CONFLICT, `direct key ${directKey} already has a channel`);
    if (this.now() - holder.claimed_at < STALE_CLAIM_MS) {
      throw new RestartWrite(`direct key ${directKey} is being claimed`, CLAIM_RETRY_MS);
    }
    const taken = await server.query(
      `UPDATE ${s}.shard_direct_keys SET channel_id = $2, claimed_at = $3
        WHERE direct_key = $1 AND channel_id = $4 RETURNING 1`,
      [directKey, channelId, this.now(), holder.channel_id],
    );
    if (taken.length === 0) throw new RestartWrite(`direct key ${directKey} was claimed meanwhile`);
    attempt.onAbort(() => this.release(directKey, channelId));
  }

  /** Drops a claim of a write that rolled back (best effort: a stale claim is taken over anyway). */
  private async release(directKey: string, channelId: string): Promise<void> {
    const server = this.serverOfKey(directKey);
    await server
      .query(`DELETE FROM ${server.s}.shard_direct_keys WHERE direct_key = $1 AND channel_id = $2`, [
        directKey,
        channelId,
      ])
      .catch(() => undefined);
  }
}
