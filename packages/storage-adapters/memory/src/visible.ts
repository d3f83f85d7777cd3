import type { Message } from '@natter/protocol';
import type { MessageQuery } from '@natter/server-core';
import type { MemoryState } from './state.js';

/**
 * The words of a text for search: runs of letters and digits, lower-cased. Everything else
 * (spaces, punctuation, symbols, query operators of other engines) only separates words, so user
 * input can never be query syntax.
 */
export function searchWords(text: string): string[] {
  return text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
}

/**
 * May `query.userId` see message `seq` of `channelId`? Only as a member now, and only from the
 * seq they joined at (the same rule as history's `minSeq`).
 */
function visibleTo(state: MemoryState, query: MessageQuery, channelId: string, seq: number): boolean {
  if (query.channelId !== undefined && query.channelId !== channelId) return false;
  const member = state.members.get(channelId)?.get(query.userId);
  return member !== undefined && seq >= member.joinedSeq;
}

/** Newest first by id, after `beforeId`, at most `limit`. */
function page(messages: Message[], query: MessageQuery): Message[] {
  const { beforeId } = query;
  return messages
    .filter((m) => beforeId === undefined || m.id < beforeId)
    .sort((a, b) => (a.id < b.id ? 1 : a.id > b.id ? -1 : 0))
    .slice(0, Math.max(0, Math.floor(query.limit)));
}

/** The text messages mentioning the reader that the reader may see, newest first. */
export function mentionsOf(state: MemoryState, query: MessageQuery): Message[] {
  const found = new Map<string, Message>();
  for (const ref of state.mentions.get(query.userId) ?? []) {
    if (!visibleTo(state, query, ref.channelId, ref.seq)) continue;
    const message = state.messages.get(ref.channelId)![ref.seq - 1]!;
    // A ref stays after an edit or a delete took the mention away: the message as it is now decides.
    if (message.mentions.includes(query.userId)) found.set(message.id, message);
  }
  return page([...found.values()], query);
}

/** Text messages the reader may see that contain every word of `text` (case-insensitive), newest first. */
export function searchMessages(state: MemoryState, query: MessageQuery & { text: string }): Message[] {
  const wanted = [...new Set(searchWords(query.text))];
  if (wanted.length === 0) return [];
  const found: Message[] = [];
  for (const channelId of state.channelsOfUser.get(query.userId) ?? []) {
    const messages = state.messages.get(channelId) ?? [];
    for (const message of messages) {
      if (message.kind !== 'text' || !visibleTo(state, query, channelId, message.seq)) continue;
      const words = new Set(searchWords(message.text));
      if (wanted.every((word) => words.has(word))) found.push(message);
    }
  }
  return page(found, query);
}
