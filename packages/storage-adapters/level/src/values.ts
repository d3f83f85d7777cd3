import type { ChannelRecord, LifecycleEntryRecord } from '@natter/server-core';

/** A stored channel: the record plus the time of its newest activity, which orders `listChannelsOf`. */
export interface ChannelValue extends ChannelRecord {
  /** `createdAt` of the newest message, or of the channel while it has none. */
  lastActivityAt: number;
}

/** Where a sync-log or mentions entry points: `[channelId, seq]`. */
export type MessageRef = [channelId: string, seq: number];

/** A sync-log value: a message ref, with the lifecycle entry when it is one (edited, deleted, reaction). */
export type SyncValue = MessageRef | [channelId: string, seq: number, entry: LifecycleEntryRecord];

/** What an idempotency key resolves to. */
export interface ClientMsgValue {
  channelId: string;
  seq: number;
  /** The sender's sync position for the message; 0 when the sender was not a recipient. */
  senderPos: number;
}

/** Strips the adapter-internal activity time from a stored channel. */
export function toChannelRecord(value: ChannelValue): ChannelRecord {
  const { lastActivityAt: _ignored, ...record } = value;
  return record;
}
