import { type Ban, ErrorCode, NatterError, type SystemEvent } from '@natter/protocol';
import { systemMessage } from '../chat/system-message.js';
import type { Delivery, DeliverySink } from '../ports/delivery.js';
import type { ModerationWrites } from '../ports/moderation.js';
import type {
  AccountStore,
  AppendedMessage,
  ChatStore,
  MemberRecord,
  WriteTransaction,
} from '../ports/storage.js';
import { moderationKeys } from './keys.js';

/** Dependencies of {@link GroupModeration}. */
export interface GroupModerationOptions {
  chat: ChatStore;
  accounts: Pick<AccountStore, 'getUser'>;
  sink: DeliverySink;
  now: () => number;
  /**
   * How long a group's slow-mode setting is reused before it is read again, ms: the bound on how late
   * another node starts (or stops) checking it. The node that sets it applies it at once. @default 2000
   */
  settingTtlMs?: number;
}

const channelNotFound = () => new NatterError(ErrorCode.NOT_FOUND, 'channel not found');
const unavailable = () => new NatterError(ErrorCode.NOT_FOUND, 'moderation is not available on this store');

/** Slow-mode settings kept at most; emptied when full. */
const MAX_SETTINGS = 10_000;

/**
 * What a group's admins do to keep it civil: ban (remove and keep out) and slow mode. The checks these
 * imply on other paths (a banned user cannot be added, a member's turn in slow mode) run inside the same
 * transaction as the change they guard: {@link refuseBanned} and {@link takeSlowModeTurn}.
 */
export class GroupModeration {
  private readonly settings = new Map<string, { seconds: number; loadedAt: number }>();
  private readonly ttlMs: number;

  constructor(private readonly options: GroupModerationOptions) {
    this.ttlMs = options.settingTtlMs ?? 2_000;
  }

  /** True when the store keeps moderation rows. */
  get available(): boolean {
    return this.options.chat.moderation !== undefined;
  }

  /**
   * Bans `targetId` from the group (admins only; idempotent): a member is removed (a `member_removed`
   * system message, as for a removal), and nobody can add them back until an admin unbans them.
   */
  async ban(userId: string, channelId: string, targetId: string): Promise<void> {
    if (targetId === userId) throw new NatterError(ErrorCode.BAD_REQUEST, 'cannot ban yourself');
    if (!(await this.options.accounts.getUser(targetId)))
      throw new NatterError(ErrorCode.NOT_FOUND, 'user not found');
    const appended = await this.adminWrite(userId, channelId, async (tx, m) => {
      const key = moderationKeys.ban(channelId, targetId);
      // The key's lock first, then the members: an add racing on another node either committed before
      // (and the member is removed here) or waits for this ban and sees it.
      const banned = await m.get(key);
      const members = await tx.listMembers(channelId);
      if (!banned) {
        await m.put(key, {
          kind: 'ban',
          channelId,
          userId: targetId,
          bannedBy: userId,
          createdAt: this.options.now(),
        });
      }
      if (!members.some((x) => x.userId === targetId)) return undefined;
      const event: SystemEvent = { action: 'member_removed', actorId: userId, memberId: targetId };
      // The banned member receives the event too, so all their devices learn they are out.
      const result = await tx.appendMessage(
        systemMessage(channelId, userId, event, this.options.now()),
        members.map((x) => x.userId),
      );
      await tx.deleteMember(channelId, targetId);
      return result;
    });
    if (appended) this.dispatch(appended);
  }

  /** Lifts a ban (admins only; idempotent). The user is not added back. */
  async unban(userId: string, channelId: string, targetId: string): Promise<void> {
    await this.adminWrite(userId, channelId, async (_tx, m) => {
      await m.delete(moderationKeys.ban(channelId, targetId));
      return undefined;
    });
  }

  /** The group's bans, oldest first (admins only). */
  async listBans(userId: string, channelId: string): Promise<Ban[]> {
    const { chat } = this.options;
    const reads = chat.moderation;
    if (!reads) throw unavailable();
    await this.requireAdmin(await chat.getMember(channelId, userId), await chat.getChannel(channelId));
    const bans: Ban[] = [];
    for (const { record } of await reads.list(moderationKeys.bansOf(channelId), undefined, 10_000)) {
      if (record.kind === 'ban')
        bans.push({ userId: record.userId, bannedBy: record.bannedBy, createdAt: record.createdAt });
    }
    return bans.sort((a, b) => a.createdAt - b.createdAt || (a.userId < b.userId ? -1 : 1));
  }

  /**
   * Sets the group's slow mode (admins only): one message per `seconds` per member, admins exempt; 0 turns
   * it off. Members learn it from a `slow_mode` system message and the channel's `slowModeSeconds`.
   */
  async setSlowMode(userId: string, channelId: string, seconds: number): Promise<void> {
    const appended = await this.adminWrite(userId, channelId, async (tx, m, members) => {
      const key = moderationKeys.slowMode(channelId);
      const current = await m.get(key);
      const before = current?.kind === 'slowMode' ? current.seconds : 0;
      if (before === seconds) return undefined;
      if (seconds === 0) await m.delete(key);
      else
        await m.put(key, { kind: 'slowMode', channelId, seconds, setBy: userId, setAt: this.options.now() });
      const event: SystemEvent = { action: 'slow_mode', actorId: userId, seconds };
      return tx.appendMessage(
        systemMessage(channelId, userId, event, this.options.now()),
        members.map((x) => x.userId),
      );
    });
    this.settings.set(channelId, { seconds, loadedAt: this.options.now() });
    if (appended) this.dispatch(appended);
  }

  /** The group's slow-mode interval in seconds (0: off), as read within the last `settingTtlMs`. */
  async slowModeSeconds(channelId: string): Promise<number> {
    const reads = this.options.chat.moderation;
    if (!reads) return 0;
    const now = this.options.now();
    const cached = this.settings.get(channelId);
    if (cached && now - cached.loadedAt < this.ttlMs) return cached.seconds;
    const row = await reads.get(moderationKeys.slowMode(channelId));
    const seconds = row?.kind === 'slowMode' ? row.seconds : 0;
    if (this.settings.size >= MAX_SETTINGS) this.settings.clear();
    this.settings.set(channelId, { seconds, loadedAt: now });
    return seconds;
  }

  private async adminWrite(
    userId: string,
    channelId: string,
    fn: (
      tx: WriteTransaction,
      m: ModerationWrites,
      members: MemberRecord[],
    ) => Promise<AppendedMessage | undefined>,
  ): Promise<AppendedMessage | undefined> {
    if (!this.available) throw unavailable();
    return this.options.chat.write(
      async (tx) => {
        const m = tx.moderation;
        if (!m) throw unavailable();
        const [channel, members] = await Promise.all([tx.getChannel(channelId), tx.listMembers(channelId)]);
        await this.requireAdmin(
          members.find((x) => x.userId === userId),
          channel,
        );
        return fn(tx, m, members);
      },
      { channelId },
    );
  }

  private async requireAdmin(
    member: MemberRecord | undefined,
    channel: { kind: string } | undefined,
  ): Promise<void> {
    if (!channel || !member) throw channelNotFound();
    if (channel.kind !== 'group')
      throw new NatterError(ErrorCode.FORBIDDEN, 'direct channels have no admins');
    if (member.role !== 'admin') throw new NatterError(ErrorCode.FORBIDDEN, 'only admins moderate a group');
  }

  private dispatch(appended: AppendedMessage): void {
    const deliveries: Delivery[] = appended.positions.map(({ userId, pos }) => ({
      userId,
      entry: { pos, kind: 'message', message: appended.message },
    }));
    this.options.sink.deliver(deliveries);
  }
}

/**
 * Refuses a group add naming a banned user, inside the add's transaction: the ban row is read under the
 * transaction's key lock ({@link ModerationWrites}), so a ban committed by a racing admin is seen.
 * Keys are read in one order so two adds of the same users cannot deadlock.
 */
export async function refuseBanned(
  tx: WriteTransaction,
  channelId: string,
  userIds: readonly string[],
): Promise<void> {
  if (!tx.moderation) return;
  for (const id of [...userIds].sort()) {
    if (await tx.moderation.get(moderationKeys.ban(channelId, id))) {
      throw new NatterError(ErrorCode.USER_BANNED, `user ${id} is banned from this group`);
    }
  }
}

/**
 * Takes a member's slow-mode turn inside the send's transaction: admins are exempt; a member whose last
 * message is more recent than the interval gets SLOW_MODE with the wait. The setting is read in the
 * transaction too, so a group whose slow mode was turned off a moment ago is not held back by a stale cache.
 */
export async function takeSlowModeTurn(
  tx: WriteTransaction,
  member: MemberRecord,
  now: number,
): Promise<void> {
  const m = tx.moderation;
  if (!m || member.role === 'admin') return;
  const setting = await m.get(moderationKeys.slowMode(member.channelId));
  if (setting?.kind !== 'slowMode' || setting.seconds <= 0) return;
  const key = moderationKeys.slowTurn(member.channelId, member.userId);
  const last = await m.get(key);
  if (last?.kind === 'slowTurn') {
    const wait = last.sentAt + setting.seconds * 1000 - now;
    if (wait > 0) {
      throw new NatterError(
        ErrorCode.SLOW_MODE,
        `slow mode: one message per ${setting.seconds} s in this group`,
        wait,
      );
    }
  }
  await m.put(key, { kind: 'slowTurn', channelId: member.channelId, userId: member.userId, sentAt: now });
}
