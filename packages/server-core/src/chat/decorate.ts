import { ID_LIMITS, type Message, type ReplyPreview, type SyncEntry } from '@natter/protocol';
import type { ChatStore } from '../ports/storage.js';

/**
 * The preview a reply shows of its parent, made from the parent as it is now: replies never hold a copy
 * of the parent's text, so an edit shows in them and a delete leaves nothing of the parent behind.
 */
export function previewOf(parent: Message | undefined, fallbackSenderId: string): ReplyPreview {
  if (!parent || parent.deletedAt !== undefined) {
    return { senderId: parent?.senderId ?? fallbackSenderId, text: '', deleted: true };
  }
  return {
    senderId: parent.senderId,
    text: [...parent.text].slice(0, ID_LIMITS.replyPreviewChars).join(''),
    deleted: false,
  };
}

/** Fills `replyPreview` of the replies among `messages`, reading each parent once. */
export async function withPreviews(chat: ChatStore, messages: Message[]): Promise<Message[]> {
  if (!messages.some((m) => m.replyTo !== undefined)) return messages;
  const parents = new Map<string, Promise<Message | undefined>>();
  return Promise.all(
    messages.map(async (message) => {
      if (message.replyTo === undefined || message.deletedAt !== undefined) return message;
      const key = `${message.channelId}\n${message.replyTo}`;
      let parent = parents.get(key);
      if (!parent) {
        parent = chat.getMessage(message.channelId, message.replyTo);
        parents.set(key, parent);
      }
      return { ...message, replyPreview: previewOf(await parent, message.senderId) };
    }),
  );
}

/** {@link withPreviews} for the messages that sync entries carry. */
export async function entriesWithPreviews(chat: ChatStore, entries: SyncEntry[]): Promise<SyncEntry[]> {
  const carried = entries.flatMap((e) => (e.kind === 'reaction' ? [] : [e.message]));
  if (!carried.some((m) => m.replyTo !== undefined)) return entries;
  const decorated = await withPreviews(chat, carried);
  let i = 0;
  return entries.map((e) => (e.kind === 'reaction' ? e : { ...e, message: decorated[i++]! }));
}

/** Adds `reactions` as `viewerId` sees them, when the store keeps reactions. */
export async function withReactions(
  chat: ChatStore,
  channelId: string,
  messages: Message[],
  viewerId: string,
): Promise<Message[]> {
  if (!chat.lifecycle || messages.length === 0) return messages;
  const byMessage = await chat.lifecycle.reactionsOf(
    channelId,
    messages.map((m) => m.seq),
    viewerId,
  );
  if (byMessage.size === 0) return messages;
  return messages.map((m) => {
    const reactions = byMessage.get(m.seq);
    return reactions ? { ...m, reactions } : m;
  });
}
