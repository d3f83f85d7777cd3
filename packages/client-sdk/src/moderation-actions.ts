import type { Ban, Block, Channel, Report, ReportReason } from '@natter/protocol';
import type { HttpClient } from './http.js';

/** What `report` names: a message by channel and seq, or a user. */
export type ReportTarget =
  | { kind: 'message'; channelId: string; seq: number }
  | { kind: 'user'; userId: string };

/**
 * Blocks and reports (any user), bans and slow mode (group admins), over the HTTP API. Errors carry the
 * server's codes: `NATTER_NOT_FOUND` for a channel or user the caller cannot see, `NATTER_FORBIDDEN` for a
 * non-admin, `NATTER_RATE_LIMITED` (with `retryAfterMs`) past the report limit.
 */
export class ModerationActions {
  constructor(private readonly http: HttpClient) {}

  async block(userId: string): Promise<void> {
    await this.http.call('blockUser', { params: { userId } });
  }

  async unblock(userId: string): Promise<void> {
    await this.http.call('unblockUser', { params: { userId } });
  }

  async blocks(): Promise<Block[]> {
    return (await this.http.call('listBlocks')).blocks;
  }

  async report(target: ReportTarget, reason: ReportReason, note?: string): Promise<Report> {
    const body = { target, reason, ...(note !== undefined ? { note } : {}) };
    return (await this.http.call('report', { body })).report;
  }

  async ban(channelId: string, userId: string): Promise<void> {
    await this.http.call('banMember', { params: { id: channelId, userId } });
  }

  async unban(channelId: string, userId: string): Promise<void> {
    await this.http.call('unbanMember', { params: { id: channelId, userId } });
  }

  async bans(channelId: string): Promise<Ban[]> {
    return (await this.http.call('listBans', { params: { id: channelId } })).bans;
  }

  async setSlowMode(channelId: string, seconds: number): Promise<Channel> {
    return (await this.http.call('setSlowMode', { params: { id: channelId }, body: { seconds } })).channel;
  }
}
