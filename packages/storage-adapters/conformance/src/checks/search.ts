import type { Message } from '@natter/protocol';
import type { MessageQuery, StorageAdapter } from '@natter/server-core';
import { expect } from 'vitest';
import { append, createChannel, memberRecord, systemMessage, textMessage } from '../fixtures.js';
import { defineCheck } from '../harness.js';

type SearchQuery = MessageQuery & { text: string };

/**
 * Calls `searchMessages` of an adapter whose manifest declares `search`. A missing method, or one
 * that throws (user text must never be a query error), fails the check.
 */
async function search(adapter: StorageAdapter, query: SearchQuery): Promise<Message[]> {
  const { searchMessages } = adapter.chat;
  expect(searchMessages, 'manifest declares search: searchMessages must exist').toBeTypeOf('function');
  try {
    return await searchMessages!.call(adapter.chat, query);
  } catch (error) {
    return expect.fail(`searchMessages(${JSON.stringify(query.text)}) threw: ${String(error)}`);
  }
}

async function ids(adapter: StorageAdapter, text: string, query: Partial<MessageQuery> = {}) {
  return (await search(adapter, { userId: 'u_alice', limit: 20, ...query, text })).map((m) => m.id);
}

const TEXTS = [
  'The quick brown fox',
  'quick thinking, BROWN bread!',
  'Brownies are quick to bake',
  'apples or pears',
  'apples',
  'café déjà-vu in 2024',
] as const;

/** Ids of the messages holding {@link TEXTS}, in the same order. */
type CorpusIds = [fox: string, thinking: string, brownies: string, or: string, apples: string, cafe: string];

/** A channel with {@link TEXTS} (in order) and a system message whose text would match; their ids. */
async function corpus(adapter: StorageAdapter): Promise<CorpusIds> {
  await createChannel(adapter, 'c1', ['u_alice', 'u_bob']);
  const messages: Message[] = [];
  for (const text of TEXTS) {
    messages.push(
      (await append(adapter, textMessage('c1', 'u_bob', { text }), ['u_alice', 'u_bob'])).message,
    );
  }
  const event = { action: 'renamed' as const, actorId: 'u_bob', name: 'quick brown' };
  await append(adapter, systemMessage('c1', event, { text: 'quick brown fox apples' }), ['u_alice', 'u_bob']);
  return messages.map((m) => m.id) as unknown as CorpusIds;
}

/**
 * `searchMessages`, for adapters whose manifest declares `capabilities.search`. The contract: the
 * text is split into words (runs of letters and digits; everything else separates words); a
 * message matches when every word occurs in it as a whole word, compared case-insensitively.
 */
export const searchChecks = {
  searchAllWords: defineCheck(
    'search',
    'searchMessages finds text messages containing every word, whole words, case-insensitive, newest first',
    async ({ adapter }) => {
      const [fox, thinking, brownies, applesOrPears, apples, cafe] = await corpus(adapter);
      expect(await search(adapter, { userId: 'u_alice', limit: 20, text: 'fox' })).toEqual([
        await adapter.chat.getMessage('c1', 1),
      ]);
      expect(await ids(adapter, 'quick brown')).toEqual([thinking, fox]);
      expect(await ids(adapter, 'BROWN Quick')).toEqual([thinking, fox]);
      expect(await ids(adapter, 'quick')).toEqual([brownies, thinking, fox]);
      expect(await ids(adapter, 'quick fox brown')).toEqual([fox]);
      expect(await ids(adapter, 'qui')).toEqual([]);
      expect(await ids(adapter, 'quick wolf')).toEqual([]);
      // Words that are operators elsewhere are plain words here.
      expect(await ids(adapter, 'apples OR pears')).toEqual([applesOrPears]);
      expect(await ids(adapter, 'apples')).toEqual([apples, applesOrPears]);
      expect(await ids(adapter, 'déjà vu')).toEqual([cafe]);
      expect(await ids(adapter, 'café, 2024!')).toEqual([cafe]);
      // Paging.
      expect(await ids(adapter, 'quick', { limit: 2 })).toEqual([brownies, thinking]);
      expect(await ids(adapter, 'quick', { limit: 2, beforeId: thinking })).toEqual([fox]);
      expect(await ids(adapter, 'quick', { limit: 0 })).toEqual([]);
      expect(await ids(adapter, 'quick', { channelId: 'c1', limit: 1 })).toEqual([brownies]);
      expect(await ids(adapter, 'quick', { channelId: 'c_unknown' })).toEqual([]);
    },
    { needsCapability: 'search' },
  ),

  searchPlainWords: defineCheck(
    'search',
    'searchMessages treats the text as plain words: quotes, operators and punctuation never cause an error',
    async ({ adapter }) => {
      const [fox, thinking] = await corpus(adapter);
      const sameAs: Array<[string, string[]]> = [
        ['"quick brown', [thinking, fox]],
        ['quick" "brown"', [thinking, fox]],
        ['(quick) AND brown*', []], // `and` is a word no message contains
        ['quick* brown^', [thinking, fox]],
        ['-quick +brown', [thinking, fox]],
        ['quick:brown', [thinking, fox]],
        ['quick & brown | !fox', [fox]],
        ['quick <-> brown', [thinking, fox]],
        ["'quick' brown\\", [thinking, fox]],
        ['NEAR(quick brown)', []],
        ['NOT quick', []],
        ['quick_brown', [thinking, fox]],
        ['%quick% brown', [thinking, fox]],
      ];
      for (const [text, expected] of sameAs) expect(await ids(adapter, text), text).toEqual(expected);
      for (const text of ['', '   ', '"', '*', '()', ':*', '&|!', '%_', '🎉', '\u0000', '-', "'"]) {
        expect(await ids(adapter, text), JSON.stringify(text)).toEqual([]);
      }
    },
    { needsCapability: 'search' },
  ),

  searchVisibility: defineCheck(
    'search',
    'searchMessages hides channels the reader is not in, messages from before they joined, and all of a channel after removal',
    async ({ adapter }) => {
      await createChannel(adapter, 'c1', ['u_alice', 'u_bob']);
      await createChannel(adapter, 'c_others', ['u_bob']);
      const say = async (channelId: string, text: string, recipients: string[]) =>
        (await append(adapter, textMessage(channelId, 'u_bob', { text }), recipients)).message;
      await say('c_others', 'secret plan', ['u_bob']);
      await say('c1', 'early plan', ['u_alice', 'u_bob']); // seq 1
      await adapter.chat.write((tx) => tx.upsertMember(memberRecord('c1', 'u_dave', { joinedSeq: 3 })));
      await say('c1', 'middle plan', ['u_alice', 'u_bob']); // seq 2
      const late = await say('c1', 'late plan', ['u_alice', 'u_bob', 'u_dave']); // seq 3

      expect(await ids(adapter, 'plan')).toHaveLength(3);
      expect(await ids(adapter, 'secret')).toEqual([]);
      expect(await ids(adapter, 'plan', { channelId: 'c_others' })).toEqual([]);
      expect(await ids(adapter, 'plan', { userId: 'u_dave' })).toEqual([late.id]);
      expect(await ids(adapter, 'plan', { userId: 'u_bob' })).toHaveLength(4);

      await adapter.chat.write((tx) => tx.deleteMember('c1', 'u_alice'));
      expect(await ids(adapter, 'plan')).toEqual([]);
      expect(await ids(adapter, 'late', { channelId: 'c1' })).toEqual([]);
      expect(await ids(adapter, 'plan', { userId: 'u_nobody' })).toEqual([]);
    },
    { needsCapability: 'search' },
  ),
};
