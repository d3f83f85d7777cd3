/**
 * The message list's display rows from the store's items: a date separator before each new day, the "new
 * messages" divider before the first message of others after the read marker, and grouping (a message by the
 * same sender within five minutes continues the previous one and shows no name).
 */
import type { MessageItem } from '../stores/message-items.js';
import { dayKey, dayLabel } from './format.js';

/** One row of the list. */
export type DisplayRow =
  | { readonly kind: 'day'; readonly key: string; readonly label: string }
  | { readonly kind: 'divider'; readonly key: string }
  | { readonly kind: 'message'; readonly key: string; readonly item: MessageItem; readonly first: boolean };

/** Messages further apart than this start a new group. */
const GROUP_GAP_MS = 5 * 60_000;

/** Who sent an item and when (own pending messages: the user, at `send()` time). */
export function senderAndTime(item: MessageItem, me: string | undefined): { senderId: string; at: number } {
  return item.status === 'sent'
    ? { senderId: item.message.senderId, at: item.message.createdAt }
    : { senderId: me ?? '', at: item.pending.createdAt };
}

/** True for a thread reply: shown in its thread (`Thread`), not in the channel's list. */
export function isThreadReply(item: MessageItem): boolean {
  return item.status === 'sent'
    ? item.message.threadRoot !== undefined
    : item.extras?.threadRoot !== undefined;
}

/**
 * Builds the rows; `readSeq` (the marker when the channel was opened) places the divider, if any. Thread
 * replies are left out (their root shows the count).
 */
export function buildRows(
  items: readonly MessageItem[],
  me: string | undefined,
  readSeq: number | undefined,
  now = Date.now(),
): DisplayRow[] {
  const rows: DisplayRow[] = [];
  let previous: { senderId: string; at: number; system: boolean } | undefined;
  let dividerPlaced = readSeq === undefined;
  for (const item of items) {
    if (isThreadReply(item)) continue;
    const { senderId, at } = senderAndTime(item, me);
    const system = item.status === 'sent' && item.message.kind === 'system';
    const day = dayKey(at);
    let newDay = !previous || dayKey(previous.at) !== day;
    if (newDay) rows.push({ kind: 'day', key: `day-${day}`, label: dayLabel(at, now) });
    if (
      !dividerPlaced &&
      item.status === 'sent' &&
      item.message.seq > (readSeq ?? 0) &&
      senderId !== me &&
      !system
    ) {
      dividerPlaced = true;
      rows.push({ kind: 'divider', key: 'new-messages' });
      newDay = true;
    }
    const first =
      newDay ||
      system ||
      !previous ||
      previous.system ||
      previous.senderId !== senderId ||
      at - previous.at > GROUP_GAP_MS;
    rows.push({ kind: 'message', key: item.key, item, first });
    previous = { senderId, at, system };
  }
  return rows;
}
