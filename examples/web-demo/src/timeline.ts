/**
 * Turns a channel's loaded messages, its pending outbox messages and the members' receipts into the rows the
 * message list shows: day separators, messages (grouped by sender) and pending messages. Pure, unit-tested.
 */
import type { MemberReceipt, Message, PendingMessage } from '@natter/client';
import { dayKey, dayLabel } from './format.js';

/** What the sender sees of an own message: stored, on a device of the recipient(s), or read. */
export type Delivery = 'sent' | 'delivered' | 'read';

/** Receipt state of an own message. */
export interface OwnReceipt {
  delivery: Delivery;
  /** Members other than the sender who read it (groups show "Read by …"). */
  readBy: string[];
}

/** A row of the message list. */
export type TimelineRow =
  | { kind: 'day'; key: string; label: string }
  | {
      kind: 'message';
      key: string;
      message: Message;
      own: boolean;
      /** First of a run of messages by one sender: shows the sender's name. */
      startsGroup: boolean;
      receipt: OwnReceipt | undefined;
      /** Shows "Read by …" / "Seen" under it: the newest own message. */
      showReadLine: boolean;
    }
  | { kind: 'pending'; key: string; pending: PendingMessage };

/** Messages of one sender closer than this are shown as one group. */
const GROUP_GAP_MS = 5 * 60_000;

/** Input of {@link buildTimeline}. */
export interface TimelineInput {
  messages: readonly Message[];
  pending: readonly PendingMessage[];
  me: string;
  memberIds: readonly string[];
  receipts: ReadonlyMap<string, MemberReceipt>;
  /** Whether the loaded window reaches the newest message (pending messages go after it). */
  atNewest: boolean;
  now: number;
  locale?: string;
}

/** The receipt state of an own message with `seq`, from the other members' markers. */
export function ownReceipt(
  seq: number,
  me: string,
  memberIds: readonly string[],
  receipts: ReadonlyMap<string, MemberReceipt>,
): OwnReceipt {
  const others = memberIds.filter((id) => id !== me);
  const readBy = others.filter((id) => (receipts.get(id)?.readSeq ?? 0) >= seq);
  const deliveredTo = others.filter((id) => (receipts.get(id)?.deliveredSeq ?? 0) >= seq);
  const everyone = others.length > 0;
  const delivery: Delivery =
    everyone && readBy.length === others.length
      ? 'read'
      : everyone && deliveredTo.length === others.length
        ? 'delivered'
        : 'sent';
  return { delivery, readBy };
}

/** Builds the rows, oldest first. */
export function buildTimeline(input: TimelineInput): TimelineRow[] {
  const rows: TimelineRow[] = [];
  let lastDay: string | undefined;
  let previous: Message | undefined;
  const newestOwn = [...input.messages]
    .reverse()
    .find((m) => m.senderId === input.me && m.kind === 'text')?.id;
  const addDay = (ms: number) => {
    const key = dayKey(ms);
    if (key === lastDay) return;
    lastDay = key;
    rows.push({ kind: 'day', key: `day:${key}`, label: dayLabel(ms, input.now, input.locale) });
  };
  for (const message of input.messages) {
    addDay(message.createdAt);
    const own = message.senderId === input.me;
    const startsGroup =
      message.kind === 'system' ||
      previous === undefined ||
      previous.kind === 'system' ||
      previous.senderId !== message.senderId ||
      message.createdAt - previous.createdAt > GROUP_GAP_MS ||
      dayKey(previous.createdAt) !== dayKey(message.createdAt);
    rows.push({
      kind: 'message',
      key: `m:${message.id}`,
      message,
      own,
      startsGroup,
      receipt:
        own && message.kind === 'text'
          ? ownReceipt(message.seq, input.me, input.memberIds, input.receipts)
          : undefined,
      showReadLine: message.id === newestOwn,
    });
    previous = message;
  }
  if (input.atNewest) {
    const stored = new Set(input.messages.map((m) => m.clientMsgId));
    for (const pending of input.pending) {
      if (stored.has(pending.clientMsgId)) continue;
      addDay(pending.createdAt);
      rows.push({ kind: 'pending', key: `p:${pending.clientMsgId}`, pending });
    }
  }
  return rows;
}
