import type { Channel, UserProfile } from '@natter/protocol';
import type { ChannelRecord, MemberRecord, UserRecord } from '../ports/storage.js';

/** The wire form of a channel, as its members see it. */
export function toChannel(channel: ChannelRecord, members: readonly MemberRecord[]): Channel {
  return {
    id: channel.id,
    kind: channel.kind,
    name: channel.name,
    createdBy: channel.createdBy,
    createdAt: channel.createdAt,
    memberIds: members.map((m) => m.userId),
  };
}

/** The public profile of a user (never the password hash). */
export function toProfile(user: UserRecord): UserProfile {
  return { id: user.id, username: user.username, displayName: user.displayName, createdAt: user.createdAt };
}

/** Key of the direct channel between two users: the sorted pair, so both sides find the same channel. */
export function directKeyOf(a: string, b: string): string {
  return a < b ? `${a}|${b}` : `${b}|${a}`;
}
