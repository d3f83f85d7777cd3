import type { MemberReceipt, Message, PendingMessage } from '@natter/client';
import { describe, expect, it } from 'vitest';
import { buildTimeline, ownReceipt } from '../src/timeline.js';

const day1 = new Date(2025, 2, 10, 10).getTime();
const day2 = new Date(2025, 2, 11, 10).getTime();
let n = 0;
const msg = (seq: number, senderId: string, createdAt: number, over: Partial<Message> = {}): Message => ({
  id: `m${seq}`,
  channelId: 'd_1',
  seq,
  senderId,
  clientMsgId: `c${++n}`,
  kind: 'text',
  text: `text ${seq}`,
  mentions: [],
  system: null,
  createdAt,
  ...over,
});
const receipts = (entries: Array<[string, number, number]>) =>
  new Map<string, MemberReceipt>(
    entries.map(([userId, readSeq, deliveredSeq]) => [userId, { userId, readSeq, deliveredSeq }]),
  );

describe('timeline', () => {
  it('puts a day separator before the first message of each day', () => {
    const rows = buildTimeline({
      messages: [msg(1, 'me', day1), msg(2, 'bob', day1 + 60_000), msg(3, 'bob', day2)],
      pending: [],
      me: 'me',
      memberIds: ['me', 'bob'],
      receipts: new Map(),
      atNewest: true,
      now: day2,
      locale: 'en-GB',
    });
    expect(
      rows.map((r) => (r.kind === 'day' ? r.label : r.kind === 'message' ? r.message.seq : 'p')),
    ).toEqual(['Yesterday', 1, 2, 'Today', 3]);
  });

  it('groups runs of one sender and breaks them after five minutes', () => {
    const rows = buildTimeline({
      messages: [
        msg(1, 'bob', day1),
        msg(2, 'bob', day1 + 60_000),
        msg(3, 'bob', day1 + 10 * 60_000),
        msg(4, 'me', day1 + 11 * 60_000),
      ],
      pending: [],
      me: 'me',
      memberIds: ['me', 'bob'],
      receipts: new Map(),
      atNewest: true,
      now: day1,
    });
    const starts = rows.flatMap((r) => (r.kind === 'message' ? [r.startsGroup] : []));
    expect(starts).toEqual([true, false, true, true]);
  });

  it('appends pending messages after the newest stored one, once stored they are not repeated', () => {
    const pending = (clientMsgId: string): PendingMessage => ({
      clientMsgId,
      channelId: 'd_1',
      text: 'later',
      mentions: [],
      createdAt: day1 + 1,
      status: 'pending',
      attempts: 0,
    });
    const stored = msg(1, 'me', day1, { clientMsgId: 'sent-already' });
    const input = {
      messages: [stored],
      pending: [pending('sent-already'), pending('waiting')],
      me: 'me',
      memberIds: ['me', 'bob'],
      receipts: new Map(),
      now: day1,
    };
    const keys = buildTimeline({ ...input, atNewest: true }).map((r) => r.key);
    expect(keys).toEqual([expect.stringMatching(/^day:/), 'm:m1', 'p:waiting']);
    // Scrolled into the past: pending messages belong at the end, which is not loaded.
    expect(buildTimeline({ ...input, atNewest: false }).some((r) => r.kind === 'pending')).toBe(false);
  });

  it('derives sent, delivered and read from the other members markers', () => {
    expect(ownReceipt(5, 'me', ['me', 'bob'], receipts([['bob', 0, 4]])).delivery).toBe('sent');
    expect(ownReceipt(5, 'me', ['me', 'bob'], receipts([['bob', 0, 5]])).delivery).toBe('delivered');
    expect(ownReceipt(5, 'me', ['me', 'bob'], receipts([['bob', 6, 6]])).delivery).toBe('read');
    const group = ownReceipt(
      5,
      'me',
      ['me', 'bob', 'carol'],
      receipts([
        ['bob', 5, 5],
        ['carol', 1, 5],
      ]),
    );
    expect(group).toEqual({ delivery: 'delivered', readBy: ['bob'] });
  });

  it('shows the read line under the newest own message only', () => {
    const rows = buildTimeline({
      messages: [msg(1, 'me', day1), msg(2, 'me', day1 + 1), msg(3, 'bob', day1 + 2)],
      pending: [],
      me: 'me',
      memberIds: ['me', 'bob'],
      receipts: receipts([['bob', 2, 2]]),
      atNewest: true,
      now: day1,
    });
    expect(rows.flatMap((r) => (r.kind === 'message' && r.showReadLine ? [r.message.seq] : []))).toEqual([2]);
  });
});
