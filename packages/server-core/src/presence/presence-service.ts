import { ErrorCode, NatterError, type PresenceInfo } from '@natter/protocol';
import type { Logger } from '../observability/logger.js';
import type { EphemeralSink } from '../ports/delivery.js';
import type { ChosenStatus, PresenceRecord, PresenceStore } from '../ports/presence.js';
import type { ChatStore } from '../ports/storage.js';

/** A connection as presence sees it. */
export interface PresenceEndpoint {
  readonly userId: string;
  readonly connectionId: string;
  /** Newest frame received from the device (any frame counts as a heartbeat). */
  readonly lastSeenAt: number;
}

/** Options of {@link PresenceService}. */
export interface PresenceOptions {
  /** Heartbeats missing this long mark a user offline, ms. Reconnects within it cause no flap. @default 30000 */
  graceMs?: number;
  /**
   * Channels with more members than this get no presence push; members fetch presence on demand
   * (`presence.get` with `channelId`). @default 20
   */
  fanoutMaxMembers?: number;
  /**
   * Users who must not see a user's presence nor show theirs to them (blocks, either way): left out of the
   * push audience and out of `presence.get` answers, as if they shared no channel.
   */
  hiddenFrom?: (userId: string) => Promise<ReadonlySet<string>>;
}

/**
 * Online presence with hysteresis: a user is online while any device heartbeats, and goes offline only
 * after `graceMs` without heartbeats. Changes are pushed to people who share a 1-1 channel or a small group
 * with the user; larger audiences fetch on demand, because pushing presence to big rooms is O(n²).
 */
export class PresenceService {
  readonly graceMs: number;
  readonly fanoutMaxMembers: number;
  private readonly hiddenFrom: (userId: string) => Promise<ReadonlySet<string>>;

  constructor(
    private readonly store: PresenceStore,
    private readonly chat: ChatStore,
    private readonly sink: EphemeralSink,
    private readonly logger: Logger,
    private readonly now: () => number,
    options: PresenceOptions = {},
  ) {
    this.graceMs = options.graceMs ?? 30_000;
    this.fanoutMaxMembers = options.fanoutMaxMembers ?? 20;
    this.hiddenFrom = options.hiddenFrom ?? (async () => new Set<string>());
  }

  /** A device connected: it counts as a heartbeat now. */
  async connected(endpoint: PresenceEndpoint): Promise<void> {
    await this.beat([endpoint]);
  }

  /**
   * Periodic pass: records the heartbeats of live connections, then expires silent devices. Connections
   * whose newest frame is already older than the grace period are not counted (a half-open socket).
   */
  async sweep(endpoints: Iterable<PresenceEndpoint>): Promise<void> {
    const cutoff = this.now() - this.graceMs;
    await this.beat([...endpoints].filter((e) => e.lastSeenAt >= cutoff));
    for (const { userId } of await this.store.expire(cutoff)) await this.publish(userId);
  }

  /** Logout: the device is gone at once, without the grace period. */
  async loggedOut(userId: string, deviceKeys: readonly string[]): Promise<void> {
    for (const key of deviceKeys) await this.store.drop(userId, key);
    const [record] = await this.store.get([userId]);
    if (record && record.liveSince === null) await this.publish(userId);
  }

  async setStatus(userId: string, status: ChosenStatus): Promise<void> {
    await this.store.setStatus(userId, status);
    await this.publish(userId);
  }

  /** True when any device of the user is live, whatever their chosen status (push is skipped for them). */
  async isOnline(userId: string): Promise<boolean> {
    const [record] = await this.store.get([userId]);
    return record?.liveSince != null;
  }

  /** Presence of users who share a channel with the viewer; others are left out (strangers learn nothing). */
  async query(
    viewerId: string,
    request: { userIds?: readonly string[]; channelId?: string },
  ): Promise<PresenceInfo[]> {
    let visible: string[];
    if (request.channelId !== undefined) {
      if (!(await this.chat.getMember(request.channelId, viewerId))) {
        throw new NatterError(ErrorCode.NOT_FOUND, 'channel not found');
      }
      visible = (await this.chat.listMembers(request.channelId)).map((m) => m.userId);
    } else {
      const contacts = await this.contactsOf(viewerId, Number.POSITIVE_INFINITY);
      visible = [...new Set(request.userIds ?? [])].filter((id) => id === viewerId || contacts.has(id));
    }
    const hidden = await this.hiddenFrom(viewerId);
    return (await this.store.get(visible.filter((id) => !hidden.has(id)))).map(toInfo);
  }

  private async beat(endpoints: readonly PresenceEndpoint[]): Promise<void> {
    if (endpoints.length === 0) return;
    const beats = endpoints.map((e) => ({ userId: e.userId, deviceKey: e.connectionId, at: e.lastSeenAt }));
    for (const userId of await this.store.touch(beats, this.graceMs)) await this.publish(userId);
  }

  /** Pushes a user's presence to everyone who shares a small channel with them. */
  private async publish(userId: string): Promise<void> {
    try {
      const [record] = await this.store.get([userId]);
      if (!record) return;
      const audience = await this.contactsOf(userId, this.fanoutMaxMembers);
      for (const id of await this.hiddenFrom(userId)) audience.delete(id);
      if (audience.size === 0) return;
      this.sink.sendToUsers(audience, { t: 'presence', user: toInfo(record) });
    } catch (err) {
      this.logger.warn({ err, userId }, 'presence publish failed');
    }
  }

  /** Users sharing a channel of at most `maxMembers` members with `userId` (the user excluded). */
  private async contactsOf(userId: string, maxMembers: number): Promise<Set<string>> {
    const contacts = new Set<string>();
    for (const { channel } of await this.chat.listChannelsOf(userId)) {
      const members = await this.chat.listMembers(channel.id);
      if (members.length > maxMembers) continue;
      for (const m of members) if (m.userId !== userId) contacts.add(m.userId);
    }
    return contacts;
  }
}

/** What others see: invisible users and users with no live device appear offline. */
function toInfo(record: PresenceRecord): PresenceInfo {
  const live = record.liveSince !== null;
  const status = !live || record.status === 'invisible' ? 'offline' : record.status;
  return { userId: record.userId, status, lastActiveAt: record.lastActiveAt };
}
