/** The kinds of channel: a 1-1 conversation or a group of at most `maxGroupMembers`. */
export type ChannelKind = 'direct' | 'group';

/** What a system message records. System messages live in the channel's sequence like any other. */
export type SystemEvent =
  | { action: 'created'; actorId: string; name: string | null; memberIds: string[] }
  | { action: 'members_added'; actorId: string; memberIds: string[] }
  | { action: 'member_removed'; actorId: string; memberId: string }
  | { action: 'member_left'; actorId: string }
  | { action: 'renamed'; actorId: string; name: string };

/** A stored message as every device sees it. */
export interface Message {
  /** Globally unique, time-sortable id (26-char Crockford base32, ULID layout). */
  id: string;
  /** The channel the message belongs to. */
  channelId: string;
  /** The channel's local sequence: 1, 2, 3, ... with no gaps; orders messages within the channel. */
  seq: number;
  /** The user who sent it (the actor, for system messages). */
  senderId: string;
  /** The idempotency key the sending device chose, or null for system messages. */
  clientMsgId: string | null;
  /** `text` for user messages, `system` for membership and rename events. */
  kind: 'text' | 'system';
  /** The message text (empty for system messages). */
  text: string;
  /** User ids @-mentioned in the text. */
  mentions: string[];
  /** Set on system messages. */
  system: SystemEvent | null;
  /** Server time of the commit, ms since the Unix epoch. */
  createdAt: number;
}

/**
 * One entry of a user's sync log (the design's "message sync queue"). Every device of the user
 * sees the same entries with the same `pos`, so `pos` is the device's `cur_max_message_id`.
 */
export interface SyncEntry {
  /** Position in the user's sync log: 1, 2, 3, ... with no gaps, in commit order. */
  pos: number;
  /** Kind of entry; clients must skip (but still count) kinds they do not know. */
  kind: 'message';
  /** The message this entry delivers. */
  message: Message;
}

/** A channel as its members see it. */
export interface Channel {
  id: string;
  kind: ChannelKind;
  /** Group name; null for direct channels. */
  name: string | null;
  createdBy: string;
  createdAt: number;
  /** User ids of the current members. */
  memberIds: string[];
}

/** A channel in a user's channel list. */
export interface ChannelSummary extends Channel {
  /** Highest `seq` in the channel. */
  lastSeq: number;
  /** The newest message, if any. */
  lastMessage: Message | null;
  /** The user's read marker: every message with `seq <= readSeq` counts as read. */
  readSeq: number;
  /** Messages after the read marker not sent by the user. */
  unread: number;
}

/** A user's public profile. */
export interface UserProfile {
  id: string;
  username: string;
  displayName: string;
  createdAt: number;
}
