import type { HistoryPage, HistoryQuery, StorageAdapter } from '@natter/server-core';
import { expect } from 'vitest';
import { appendMany, createChannel } from '../fixtures.js';
import { defineCheck } from '../harness.js';

const MESSAGES = 12;

async function channelWithMessages(adapter: StorageAdapter): Promise<void> {
  await createChannel(adapter, 'c1', ['u_alice']);
  await createChannel(adapter, 'c_empty', ['u_alice']);
  await appendMany(adapter, 'c1', 'u_alice', ['u_alice'], MESSAGES);
}

/** The seqs of a page and its flags, for compact comparisons. */
async function read(adapter: StorageAdapter, query: HistoryQuery, channelId = 'c1') {
  const page = await adapter.chat.readHistory(channelId, query);
  return { seqs: page.messages.map((m) => m.seq), before: page.hasMoreBefore, after: page.hasMoreAfter };
}

/**
 * The unambiguous part of the paging rules for a channel with seqs `1..MESSAGES`: the page holds the
 * `limit` visible messages closest to the anchor, ascending, and the flags say whether visible
 * messages (seq >= minSeq) exist before the page's first and after its last message (for an empty
 * page: before and after the anchor).
 */
function expectedPage(query: HistoryQuery) {
  const visible = Array.from({ length: MESSAGES }, (_, i) => i + 1).filter((seq) => seq >= query.minSeq);
  const { limit } = query;
  let seqs: number[];
  let splitBefore: number; // for an empty page: visible seqs below this count as "before"
  if (query.before !== undefined) {
    const below = visible.filter((seq) => seq < query.before!);
    seqs = below.slice(Math.max(0, below.length - limit));
    splitBefore = query.before;
  } else if (query.after !== undefined) {
    seqs = visible.filter((seq) => seq > query.after!).slice(0, limit);
    splitBefore = query.after + 1;
  } else {
    seqs = visible.slice(Math.max(0, visible.length - limit));
    splitBefore = Number.POSITIVE_INFINITY;
  }
  const lo = seqs[0] ?? splitBefore;
  const hi = seqs.at(-1) ?? splitBefore - 1;
  return { seqs, before: visible.some((s) => s < lo), after: visible.some((s) => s > hi) };
}

/** Checks the properties every `around` page must have, whatever way it fills a short side. */
function expectAroundPage(page: Awaited<ReturnType<typeof read>>, query: HistoryQuery & { around: number }) {
  const label = JSON.stringify(query);
  const visible = Array.from({ length: MESSAGES }, (_, i) => i + 1).filter((seq) => seq >= query.minSeq);
  expect(page.seqs.length, label).toBeLessThanOrEqual(query.limit);
  page.seqs.forEach((seq, i) => {
    expect(visible.includes(seq), label).toBe(true);
    if (i > 0) expect(seq, label).toBe(page.seqs[i - 1]! + 1);
  });
  if (visible.includes(query.around) && query.limit > 0) expect(page.seqs, label).toContain(query.around);
  if (page.seqs.length > 0) {
    expect(page.before, label).toBe(visible.some((s) => s < page.seqs[0]!));
    expect(page.after, label).toBe(visible.some((s) => s > page.seqs.at(-1)!));
  }
  const half = Math.floor(query.limit / 2);
  const centered = [query.around - half, query.around + query.limit - half - 1];
  if (visible.includes(centered[0]!) && visible.includes(centered[1]!)) {
    const expected = Array.from({ length: query.limit }, (_, i) => centered[0]! + i);
    expect(page.seqs, `${label}: half before, the anchor, the rest after`).toEqual(expected);
  }
}

/** readHistory paging. */
export const historyChecks = {
  latest: defineCheck(
    'readHistory',
    'without an anchor it returns the newest messages ascending',
    async ({ adapter }) => {
      await channelWithMessages(adapter);
      expect(await read(adapter, { limit: 3, minSeq: 0 })).toEqual({
        seqs: [10, 11, 12],
        before: true,
        after: false,
      });
      expect(await read(adapter, { limit: 50, minSeq: 0 })).toEqual({
        seqs: expectedPage({ limit: 50, minSeq: 0 }).seqs,
        before: false,
        after: false,
      });
      expect(await read(adapter, { limit: 5, minSeq: 0 }, 'c_empty')).toEqual({
        seqs: [],
        before: false,
        after: false,
      });
      expect(await read(adapter, { limit: 5, minSeq: 0 }, 'c_unknown')).toEqual({
        seqs: [],
        before: false,
        after: false,
      });
      const page: HistoryPage = await adapter.chat.readHistory('c1', { limit: 1, minSeq: 0 });
      expect(page.messages[0]).toEqual(await adapter.chat.getMessage('c1', 12));
    },
  ),

  before: defineCheck(
    'readHistory',
    'before returns the closest older messages and sets both flags',
    async ({ adapter }) => {
      await channelWithMessages(adapter);
      expect(await read(adapter, { before: 6, limit: 3, minSeq: 0 })).toEqual({
        seqs: [3, 4, 5],
        before: true,
        after: true,
      });
      expect(await read(adapter, { before: 4, limit: 3, minSeq: 0 })).toEqual({
        seqs: [1, 2, 3],
        before: false,
        after: true,
      });
      expect(await read(adapter, { before: 1, limit: 3, minSeq: 0 })).toEqual({
        seqs: [],
        before: false,
        after: true,
      });
      expect(await read(adapter, { before: 99, limit: 2, minSeq: 0 })).toEqual({
        seqs: [11, 12],
        before: true,
        after: false,
      });
    },
  ),

  after: defineCheck(
    'readHistory',
    'after returns the closest newer messages and sets both flags',
    async ({ adapter }) => {
      await channelWithMessages(adapter);
      expect(await read(adapter, { after: 6, limit: 3, minSeq: 0 })).toEqual({
        seqs: [7, 8, 9],
        before: true,
        after: true,
      });
      expect(await read(adapter, { after: 9, limit: 3, minSeq: 0 })).toEqual({
        seqs: [10, 11, 12],
        before: true,
        after: false,
      });
      expect(await read(adapter, { after: 12, limit: 3, minSeq: 0 })).toEqual({
        seqs: [],
        before: true,
        after: false,
      });
      expect(await read(adapter, { after: 0, limit: 2, minSeq: 0 })).toEqual({
        seqs: [1, 2],
        before: false,
        after: true,
      });
    },
  ),

  around: defineCheck(
    'readHistory',
    'around returns half before, the anchor and the rest after',
    async ({ adapter }) => {
      await channelWithMessages(adapter);
      expect(await read(adapter, { around: 6, limit: 5, minSeq: 0 })).toEqual({
        seqs: [4, 5, 6, 7, 8],
        before: true,
        after: true,
      });
      expect(await read(adapter, { around: 6, limit: 4, minSeq: 0 })).toEqual({
        seqs: [4, 5, 6, 7],
        before: true,
        after: true,
      });
      expect(await read(adapter, { around: 6, limit: 1, minSeq: 0 })).toEqual({
        seqs: [6],
        before: true,
        after: true,
      });
      for (const [around, limit] of [
        [1, 5],
        [12, 5],
        [2, 12],
        [3, 50],
      ] as const) {
        expectAroundPage(await read(adapter, { around, limit, minSeq: 0 }), { around, limit, minSeq: 0 });
      }
    },
  ),

  minSeq: defineCheck(
    'readHistory',
    'messages below minSeq are invisible, also to the flags',
    async ({ adapter }) => {
      await channelWithMessages(adapter);
      expect(await read(adapter, { limit: 50, minSeq: 9 })).toEqual({
        seqs: [9, 10, 11, 12],
        before: false,
        after: false,
      });
      expect(await read(adapter, { before: 11, limit: 5, minSeq: 8 })).toEqual({
        seqs: [8, 9, 10],
        before: false,
        after: true,
      });
      expect(await read(adapter, { after: 2, limit: 2, minSeq: 8 })).toEqual({
        seqs: [8, 9],
        before: false,
        after: true,
      });
      expect(await read(adapter, { limit: 5, minSeq: 13 })).toEqual({
        seqs: [],
        before: false,
        after: false,
      });
      expectAroundPage(await read(adapter, { around: 9, limit: 5, minSeq: 8 }), {
        around: 9,
        limit: 5,
        minSeq: 8,
      });
    },
  ),

  sweep: defineCheck(
    'readHistory',
    'every anchor, limit and minSeq gives the page and flags the paging rules define',
    async ({ adapter }) => {
      await channelWithMessages(adapter);
      for (const minSeq of [0, 1, 4, 12, 13]) {
        for (const limit of [1, 2, 3, 5, 20]) {
          const latest = { limit, minSeq };
          expect(await read(adapter, latest), JSON.stringify(latest)).toEqual(expectedPage(latest));
          for (let anchor = -1; anchor <= MESSAGES + 2; anchor++) {
            for (const query of [
              { before: anchor, limit, minSeq },
              { after: anchor, limit, minSeq },
            ]) {
              expect(await read(adapter, query), JSON.stringify(query)).toEqual(expectedPage(query));
            }
            const around = { around: anchor, limit, minSeq };
            expectAroundPage(await read(adapter, around), around);
          }
        }
      }
    },
  ),
};
