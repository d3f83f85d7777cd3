import { type Message, newId } from '@natter/protocol';
import type { MessagePushPayload, ReactionPushPayload } from './notifier.js';
import type { PendingNotification } from './store/push-store.js';

/** Longest message text put in a payload (with `includeContent`), in characters: Web Push allows ~4 KB. */
export const MAX_CONTENT_CHARS = 500;

/** The first {@link MAX_CONTENT_CHARS} characters, never splitting a surrogate pair. */
export function truncateContent(text: string): string {
  if (text.length <= MAX_CONTENT_CHARS) return text;
  const chars = Array.from(text);
  return chars.length <= MAX_CONTENT_CHARS ? text : `${chars.slice(0, MAX_CONTENT_CHARS - 1).join('')}…`;
}

/** What a notification says for each kind of attachment (a message's first attachment decides). */
export const ATTACHMENT_LABELS = { image: 'Photo', video: 'Video', file: 'File' } as const;

/**
 * The text a notification shows for a message (with `includeContent`): its text, or for a message with
 * attachments "Photo", "Video" or "File", followed by the caption when there is one.
 */
export function contentOf(message: Pick<Message, 'text' | 'attachments'>): string {
  const first = message.attachments?.[0];
  if (!first) return message.text;
  const label = ATTACHMENT_LABELS[first.kind];
  return message.text.length > 0 ? `${label}: ${message.text}` : label;
}

/**
 * What is stored for a message without `includeContent`: only the label of an attachment message
 * ("Photo"), which is no content; null for text. A text message's own words never get here, so a stored
 * label can only be one.
 */
export function labelOf(message: Pick<Message, 'attachments'>): AttachmentLabel | null {
  const first = message.attachments?.[0];
  return first ? ATTACHMENT_LABELS[first.kind] : null;
}

/** "Photo", "Video" or "File". */
export type AttachmentLabel = (typeof ATTACHMENT_LABELS)[keyof typeof ATTACHMENT_LABELS];

const LABELS = new Set<string>(Object.values(ATTACHMENT_LABELS));

/**
 * The payload of an owed notification: ids and counts, plus content only when it was stored (opt-in).
 * Without content, an attachment message's label still says what it is (`label: 'Photo'`).
 */
export function buildPayload(
  pending: PendingNotification,
  id: string = newId(),
  includeContent = true,
): MessagePushPayload {
  const text = pending.latestText;
  return {
    type: 'natter.message',
    id,
    channelId: pending.channelId,
    count: pending.count,
    latestSeq: pending.latestSeq,
    latestMessageId: pending.latestMessageId,
    ...(text !== null && includeContent ? { latest: { senderId: pending.latestSenderId, text } } : {}),
    ...(text !== null && !includeContent && LABELS.has(text) ? { label: text as AttachmentLabel } : {}),
  };
}

/** A reaction to the user's message; who reacted and the emoji only with content (they are what it says). */
export function buildReactionPayload(
  reaction: { channelId: string; seq: number; userId: string; emoji: string },
  includeContent: boolean,
  id: string = newId(),
): ReactionPushPayload {
  return {
    type: 'natter.reaction',
    id,
    channelId: reaction.channelId,
    seq: reaction.seq,
    ...(includeContent ? { reaction: { userId: reaction.userId, emoji: reaction.emoji } } : {}),
  };
}

/** Delay before retry number `attempts` (1-based): exponential, capped, half of it random (spreads retries out). */
export function retryDelay(attempts: number, baseMs: number, maxMs: number): number {
  const cap = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempts - 1));
  return cap / 2 + Math.random() * (cap / 2);
}
