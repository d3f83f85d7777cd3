import type { Message } from '@natter/client';
import { describe, expect, it } from 'vitest';
import { addLive, mergePage, windowBounds } from '../src/history-window.js';
import { emptyWindow, windowMessages } from '../src/state.js';

const msg = (seq: number): Message => ({
  id: `m${seq}`,
  channelId: 'g_1',
  seq,
  senderId: 'u',
  clientMsgId: `c${seq}`,
  kind: 'text',
  text: String(seq),
  mentions: [],
  system: null,
  createdAt: seq,
});
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => msg(from + i));
const seqs = (w: ReturnType<typeof emptyWindow>) => windowMessages(w).map((m) => m.seq);

describe('history window', () => {
  it('prepends older pages and keeps the newest end', () => {
    const w = emptyWindow();
    mergePage(w, { messages: range(51, 100), hasMoreBefore: true, hasMoreAfter: false }, 'latest');
    mergePage(w, { messages: range(1, 50), hasMoreBefore: false, hasMoreAfter: true }, 'before');
    expect(windowBounds(w)).toEqual({ min: 1, max: 100 });
    expect(w.hasMoreBefore).toBe(false);
    expect(w.hasMoreAfter).toBe(false);
  });

  it('replaces the window with a page centred on a jump target, then fills forward', () => {
    const w = emptyWindow();
    mergePage(w, { messages: range(151, 200), hasMoreBefore: true, hasMoreAfter: false }, 'latest');
    mergePage(w, { messages: range(20, 30), hasMoreBefore: true, hasMoreAfter: true }, 'around');
    expect(seqs(w)).toEqual(range(20, 30).map((m) => m.seq));
    expect(w.hasMoreAfter).toBe(true);
    // Live messages wait while the window does not reach the newest.
    expect(addLive(w, msg(201))).toBe(true);
    expect(windowBounds(w)?.max).toBe(30);
    mergePage(w, { messages: range(31, 80), hasMoreBefore: true, hasMoreAfter: true }, 'after');
    mergePage(w, { messages: range(81, 201), hasMoreBefore: true, hasMoreAfter: false }, 'after');
    expect(windowBounds(w)).toEqual({ min: 20, max: 201 });
    expect(w.hasMoreAfter).toBe(false);
  });

  it('appends live messages in order and reports a gap', () => {
    const w = emptyWindow();
    mergePage(w, { messages: range(1, 3), hasMoreBefore: false, hasMoreAfter: false }, 'latest');
    expect(addLive(w, msg(4))).toBe(true);
    expect(addLive(w, msg(4))).toBe(true);
    expect(seqs(w)).toEqual([1, 2, 3, 4]);
    expect(addLive(w, msg(7))).toBe(false);
    expect(w.hasMoreAfter).toBe(true);
  });

  it('does not leave a hidden gap when the newest page is far ahead of what is loaded', () => {
    const w = emptyWindow();
    mergePage(w, { messages: range(1, 10), hasMoreBefore: false, hasMoreAfter: false }, 'latest');
    mergePage(w, { messages: range(60, 100), hasMoreBefore: true, hasMoreAfter: false }, 'latest');
    expect(windowBounds(w)).toEqual({ min: 60, max: 100 });
    expect(w.hasMoreBefore).toBe(true);
  });

  it('keeps a live message that arrived before the first page', () => {
    const w = emptyWindow();
    addLive(w, msg(11));
    mergePage(w, { messages: range(1, 10), hasMoreBefore: false, hasMoreAfter: false }, 'latest');
    expect(seqs(w)).toEqual(range(1, 11).map((m) => m.seq));
  });
});
