import type { Message } from '@natter/protocol';
import type { MemberRecord, ModerationRecord } from '@natter/server-core';
import {
  type ChannelRow,
  type ClientMsgRef,
  type MemoryState,
  type MentionRef,
  messageKey,
  type ReactionSet,
  type SyncRef,
} from './state.js';

/**
 * The uncommitted changes of one write: an overlay over {@link MemoryState}. Reads inside the write
 * consult the overlay first; `commit` folds it into the state synchronously, and dropping it is the
 * rollback. Keeping changes out of the state until commit is what hides them from outside readers.
 */
export class Staging {
  readonly channels = new Map<string, ChannelRow>();
  readonly directKeys = new Map<string, string>();
  /** channel id -> user id -> new membership, or null for a deleted one. */
  readonly members = new Map<string, Map<string, MemberRecord | null>>();
  readonly messages = new Map<string, Message[]>();
  readonly syncLogs = new Map<string, SyncRef[]>();
  readonly clientMsgs = new Map<string, ClientMsgRef>();
  /** user id -> mentions added by this write. */
  readonly mentions = new Map<string, MentionRef[]>();
  /** message key -> the message after an edit, a delete or a thread reply count of this write. */
  readonly updates = new Map<string, Message>();
  /** message key -> the whole reaction set after this write (copied on first change). */
  readonly reactions = new Map<string, ReactionSet>();
  readonly mutations = new Map<string, number>();
  /** Moderation rows written by this write; null for a deleted one. */
  readonly moderation = new Map<string, ModerationRecord | null>();

  constructor(readonly base: MemoryState) {}

  channel(channelId: string): ChannelRow | undefined {
    return this.channels.get(channelId) ?? this.base.channels.get(channelId);
  }

  directChannelId(directKey: string): string | undefined {
    return this.directKeys.get(directKey) ?? this.base.directKeys.get(directKey);
  }

  member(channelId: string, userId: string): MemberRecord | undefined {
    const staged = this.members.get(channelId)?.get(userId);
    if (staged !== undefined) return staged ?? undefined;
    return this.base.members.get(channelId)?.get(userId);
  }

  membersOf(channelId: string): MemberRecord[] {
    const merged = new Map(this.base.members.get(channelId));
    for (const [userId, record] of this.members.get(channelId) ?? []) {
      if (record === null) merged.delete(userId);
      else merged.set(userId, record);
    }
    return [...merged.values()];
  }

  setMember(channelId: string, userId: string, record: MemberRecord | null): void {
    let byUser = this.members.get(channelId);
    if (!byUser) {
      byUser = new Map();
      this.members.set(channelId, byUser);
    }
    byUser.set(userId, record);
  }

  clientMsg(key: string): ClientMsgRef | undefined {
    return this.clientMsgs.get(key) ?? this.base.clientMsgs.get(key);
  }

  message(channelId: string, seq: number): Message | undefined {
    const updated = this.updates.get(messageKey(channelId, seq));
    if (updated) return updated;
    const committed = this.base.messages.get(channelId) ?? [];
    if (seq <= committed.length) return committed[seq - 1];
    return this.messages.get(channelId)?.[seq - committed.length - 1];
  }

  syncHead(userId: string): number {
    return (this.base.syncLogs.get(userId)?.length ?? 0) + (this.syncLogs.get(userId)?.length ?? 0);
  }

  appendSync(userId: string, ref: SyncRef): number {
    let log = this.syncLogs.get(userId);
    if (!log) {
      log = [];
      this.syncLogs.set(userId, log);
    }
    log.push(ref);
    return this.syncHead(userId);
  }

  addMention(userId: string, ref: MentionRef): void {
    const list = this.mentions.get(userId);
    if (list) list.push(ref);
    else this.mentions.set(userId, [ref]);
  }

  appendMessage(message: Message): void {
    let list = this.messages.get(message.channelId);
    if (!list) {
      list = [];
      this.messages.set(message.channelId, list);
    }
    list.push(message);
  }

  /** Replaces a stored message (committed or staged by this write). */
  updateMessage(message: Message): void {
    const staged = this.messages.get(message.channelId);
    const committedCount = this.base.messages.get(message.channelId)?.length ?? 0;
    const index = message.seq - committedCount - 1;
    if (staged && index >= 0 && index < staged.length) staged[index] = message;
    else this.updates.set(messageKey(message.channelId, message.seq), message);
  }

  /** The reaction set of a message as this write sees it (a copy the caller may change and stage). */
  reactionSet(channelId: string, seq: number): ReactionSet {
    const key = messageKey(channelId, seq);
    const current = this.reactions.get(key) ?? this.base.reactions.get(key);
    return new Map([...(current ?? [])].map(([emoji, users]) => [emoji, new Set(users)]));
  }

  moderationRow(key: string): ModerationRecord | undefined {
    const staged = this.moderation.get(key);
    if (staged !== undefined) return staged ?? undefined;
    return this.base.moderation.get(key);
  }

  mutation(key: string): number | undefined {
    return this.mutations.get(key) ?? this.base.mutations.get(key);
  }

  /** Applies every staged change to the state. Synchronous, so it is atomic to other code. */
  commit(): void {
    const state = this.base;
    for (const [id, row] of this.channels) state.channels.set(id, row);
    for (const [key, id] of this.directKeys) state.directKeys.set(key, id);
    for (const [channelId, byUser] of this.members) {
      let committed = state.members.get(channelId);
      if (!committed) {
        committed = new Map();
        state.members.set(channelId, committed);
      }
      for (const [userId, record] of byUser) {
        let channelIds = state.channelsOfUser.get(userId);
        if (!channelIds) {
          channelIds = new Set();
          state.channelsOfUser.set(userId, channelIds);
        }
        if (record === null) {
          committed.delete(userId);
          channelIds.delete(channelId);
        } else {
          committed.set(userId, record);
          channelIds.add(channelId);
        }
      }
    }
    for (const [channelId, added] of this.messages) appendTo(state.messages, channelId, added);
    for (const [userId, added] of this.syncLogs) appendTo(state.syncLogs, userId, added);
    for (const [key, ref] of this.clientMsgs) state.clientMsgs.set(key, ref);
    for (const [userId, added] of this.mentions) appendTo(state.mentions, userId, added);
    for (const message of this.updates.values()) {
      state.messages.get(message.channelId)![message.seq - 1] = message;
    }
    for (const [key, set] of this.reactions) {
      if (set.size === 0) state.reactions.delete(key);
      else state.reactions.set(key, set);
    }
    for (const [key, pos] of this.mutations) state.mutations.set(key, pos);
    for (const [key, record] of this.moderation) {
      if (record === null) state.moderation.delete(key);
      else state.moderation.set(key, record);
    }
  }
}

function appendTo<T>(map: Map<string, T[]>, key: string, added: readonly T[]): void {
  const list = map.get(key);
  if (list) list.push(...added);
  else map.set(key, [...added]);
}
