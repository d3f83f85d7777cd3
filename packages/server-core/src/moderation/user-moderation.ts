import {
  type Block,
  ErrorCode,
  type EventInput,
  MODERATION_LIMITS,
  NatterError,
  newPrefixedId,
  type RateLimit,
  type Report,
  type ReportInput,
} from '@natter/protocol';
import { TokenBucket } from '../chat/rate-limiter.js';
import type { ModerationRecord, ModerationWrites } from '../ports/moderation.js';
import type { AccountStore, ChatStore } from '../ports/storage.js';
import type { BlockList } from './block-list.js';
import { lastPart, moderationKeys } from './keys.js';

/** Dependencies of {@link UserModeration}. */
export interface UserModerationOptions {
  chat: ChatStore;
  accounts: Pick<AccountStore, 'getUser'>;
  blocks: BlockList;
  /** Emits `user.reported` after a report's commit. */
  emit: (event: EventInput) => void;
  /** Reports per user (token bucket). */
  reportRate: RateLimit;
  now: () => number;
}

const unavailable = () => new NatterError(ErrorCode.NOT_FOUND, 'moderation is not available on this store');
const messageNotFound = () => new NatterError(ErrorCode.NOT_FOUND, 'message not found');

/** Report rate buckets kept at most; emptied when full (a reset costs a user one burst at worst). */
const MAX_BUCKETS = 10_000;

/**
 * What a user does about other users: block and unblock them, and report them or their messages to the
 * app's moderators. Reports are kept for review with a snapshot of the message and announced as a
 * `user.reported` event (event webhooks deliver it to the app).
 */
export class UserModeration {
  private readonly reportBuckets = new Map<string, TokenBucket>();

  constructor(private readonly options: UserModerationOptions) {}

  /** Blocks `targetId` (idempotent). NOT_FOUND for an unknown user; a user cannot block themself. */
  async block(userId: string, targetId: string): Promise<void> {
    const { accounts, blocks, now } = this.options;
    if (targetId === userId) throw new NatterError(ErrorCode.BAD_REQUEST, 'cannot block yourself');
    if (!(await accounts.getUser(targetId))) throw new NatterError(ErrorCode.NOT_FOUND, 'user not found');
    await this.write(async (m) => {
      const key = moderationKeys.block(userId, targetId);
      if (await m.get(key)) return;
      const count = (
        await m.list(moderationKeys.blocksOf(userId), undefined, MODERATION_LIMITS.maxBlocksPerUser)
      ).length;
      if (count >= MODERATION_LIMITS.maxBlocksPerUser) {
        throw new NatterError(
          ErrorCode.BAD_REQUEST,
          `at most ${MODERATION_LIMITS.maxBlocksPerUser} blocked users`,
        );
      }
      const record: ModerationRecord = {
        kind: 'block',
        blockerId: userId,
        blockedId: targetId,
        createdAt: now(),
      };
      await m.put(key, record);
      await m.put(moderationKeys.blockedBy(targetId, userId), record);
    });
    blocks.forget(userId, targetId);
  }

  /** Lifts a block (idempotent). */
  async unblock(userId: string, targetId: string): Promise<void> {
    await this.write(async (m) => {
      await m.delete(moderationKeys.block(userId, targetId));
      await m.delete(moderationKeys.blockedBy(targetId, userId));
    });
    this.options.blocks.forget(userId, targetId);
  }

  /** The caller's blocks, oldest first. */
  async listBlocks(userId: string): Promise<Block[]> {
    const rows = await this.reads().list(
      moderationKeys.blocksOf(userId),
      undefined,
      MODERATION_LIMITS.maxBlocksPerUser,
    );
    const blocks: Block[] = [];
    for (const { key, record } of rows) {
      if (record.kind === 'block') blocks.push({ userId: lastPart(key), createdAt: record.createdAt });
    }
    return blocks.sort((a, b) => a.createdAt - b.createdAt || (a.userId < b.userId ? -1 : 1));
  }

  /**
   * Stores a report and emits `user.reported`. A message report is a member's: anyone else gets the same
   * NOT_FOUND as for a missing channel or message. The message's text at this moment is kept with the report.
   * @throws NatterError RATE_LIMITED past `reportsPerUser`, MESSAGE_DELETED for a deleted message.
   */
  async report(userId: string, input: ReportInput): Promise<Report> {
    const { chat, accounts, now, emit } = this.options;
    this.takeReportToken(userId);
    const createdAt = now();
    const base = {
      id: newPrefixedId('rep', createdAt),
      reporterId: userId,
      reason: input.reason,
      ...(input.note !== undefined && input.note.length > 0 ? { note: input.note } : {}),
      createdAt,
      status: 'open' as const,
    };
    let report: Report;
    if (input.target.kind === 'user') {
      const targetId = input.target.userId;
      if (targetId === userId) throw new NatterError(ErrorCode.BAD_REQUEST, 'cannot report yourself');
      if (!(await accounts.getUser(targetId))) throw new NatterError(ErrorCode.NOT_FOUND, 'user not found');
      report = { ...base, userId: targetId };
    } else {
      const { channelId, seq } = input.target;
      const member = await chat.getMember(channelId, userId);
      if (!member) throw new NatterError(ErrorCode.NOT_FOUND, 'channel not found');
      const message = seq >= member.joinedSeq ? await chat.getMessage(channelId, seq) : undefined;
      if (message?.kind !== 'text') throw messageNotFound();
      if (message.deletedAt !== undefined) {
        throw new NatterError(
          ErrorCode.MESSAGE_DELETED,
          'the message was deleted; report its sender instead',
        );
      }
      if (message.senderId === userId)
        throw new NatterError(ErrorCode.BAD_REQUEST, 'cannot report your own message');
      report = {
        ...base,
        userId: message.senderId,
        message: {
          id: message.id,
          channelId,
          seq,
          senderId: message.senderId,
          // By code points: a cut through a surrogate pair would store a lone surrogate.
          text: [...message.text].slice(0, MODERATION_LIMITS.maxReportSnapshotChars).join(''),
          createdAt: message.createdAt,
          attachments: message.attachments?.length ?? 0,
        },
      };
    }
    await this.write((m) => m.put(moderationKeys.report('open', report.id), { kind: 'report', report }));
    emit({
      type: 'user.reported',
      data: {
        reportId: report.id,
        reporterId: userId,
        userId: report.userId,
        reason: report.reason,
        ...(report.note !== undefined ? { note: report.note } : {}),
        ...(report.message
          ? { channelId: report.message.channelId, messageId: report.message.id, seq: report.message.seq }
          : {}),
      },
    });
    return report;
  }

  /** Reports, oldest first (ids are time-sortable), of one status or both; `after` pages by report id. */
  async listReports(query: {
    status?: 'open' | 'resolved';
    after?: string;
    limit?: number;
  }): Promise<{ reports: Report[]; hasMore: boolean }> {
    const limit = Math.min(query.limit ?? 50, MODERATION_LIMITS.maxReportPage);
    const statuses = query.status ? [query.status] : (['open', 'resolved'] as const);
    const found: Report[] = [];
    for (const status of statuses) {
      const after = query.after === undefined ? undefined : moderationKeys.report(status, query.after);
      for (const { record } of await this.reads().list(moderationKeys.reports(status), after, limit + 1)) {
        if (record.kind === 'report') found.push(record.report);
      }
    }
    found.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    return { reports: found.slice(0, limit), hasMore: found.length > limit };
  }

  /** Resolves an open report; NOT_FOUND for an unknown id, CONFLICT when it was resolved already. */
  async resolveReport(
    reportId: string,
    resolution: { outcome: 'dismissed' | 'actioned'; note?: string },
  ): Promise<Report> {
    const { now } = this.options;
    return this.write(async (m) => {
      const open = await m.get(moderationKeys.report('open', reportId));
      if (open?.kind !== 'report') {
        if (await m.get(moderationKeys.report('resolved', reportId)))
          throw new NatterError(ErrorCode.CONFLICT, 'the report is resolved already');
        throw new NatterError(ErrorCode.NOT_FOUND, 'report not found');
      }
      const report: Report = {
        ...open.report,
        status: 'resolved',
        resolution: {
          outcome: resolution.outcome,
          ...(resolution.note !== undefined ? { note: resolution.note } : {}),
          resolvedAt: now(),
        },
      };
      await m.delete(moderationKeys.report('open', reportId));
      await m.put(moderationKeys.report('resolved', reportId), { kind: 'report', report });
      return report;
    });
  }

  private takeReportToken(userId: string): void {
    const { reportRate, now } = this.options;
    let bucket = this.reportBuckets.get(userId);
    if (!bucket) {
      if (this.reportBuckets.size >= MAX_BUCKETS) this.reportBuckets.clear();
      bucket = new TokenBucket(reportRate.perSecond, reportRate.burst, now);
      this.reportBuckets.set(userId, bucket);
    }
    const wait = bucket.take();
    if (wait > 0) throw new NatterError(ErrorCode.RATE_LIMITED, 'too many reports', wait);
  }

  private reads() {
    const reads = this.options.chat.moderation;
    if (!reads) throw unavailable();
    return reads;
  }

  private write<T>(fn: (m: ModerationWrites) => Promise<T>): Promise<T> {
    if (!this.options.chat.moderation) return Promise.reject(unavailable());
    return this.options.chat.write(async (tx) => {
      if (!tx.moderation) throw unavailable();
      return fn(tx.moderation);
    });
  }
}
