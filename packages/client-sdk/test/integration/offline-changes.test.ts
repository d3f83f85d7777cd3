import { afterEach, describe, expect, it } from 'vitest';
import { type ChatClient, MemoryStore, type Session } from '../../src/index.js';
import { LevelStore } from '../../src/level.js';
import type { FetchLike } from '../../src/transport.js';
import { client, type RunningServer, startServer, tempDir, waitFor } from './harness.js';

/** A fetch that fails like a lost network while `offline.on` is set (the socket stays down: no connect()). */
function switchableFetch(): { fetch: FetchLike; offline: { on: boolean } } {
  const offline = { on: true };
  const fetch: FetchLike = (url, init) =>
    offline.on
      ? Promise.reject(new TypeError('fetch failed'))
      : (globalThis.fetch as unknown as FetchLike)(url, init);
  return { fetch, offline };
}

/** Everything a device saw through sync, as short strings in delivery order. */
function record(device: ChatClient): string[] {
  const seen: string[] = [];
  device.on('message', ({ message }) => {
    if (message.kind === 'text') seen.push(`message:${message.text}`);
  });
  device.on('messageEdited', ({ message }) => seen.push(`edited:${message.seq}:${message.text}`));
  device.on('messageDeleted', ({ message }) => seen.push(`deleted:${message.seq}`));
  device.on('reactionChanged', ({ seq, emoji, added }) => seen.push(`reaction:${seq}:${emoji}:${added}`));
  return seen;
}

describe('offline edits, deletes and reactions through the durable outbox (real server)', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function setUp(): Promise<{
    running: RunningServer;
    bob: ChatClient;
    bobSeen: string[];
    channelId: string;
    alice: Session;
    firstSeq: number;
  }> {
    const running = await startServer();
    cleanups.push(() => running.stop());
    const bob = client(running.url);
    cleanups.push(() => bob.close());
    const bobUser = await bob.signup('bob', 'password-bob');
    const bobSeen = record(bob);
    await bob.connect();
    const online = client(running.url);
    await online.signup('alice', 'password-alice');
    await online.connect();
    const channelId = (await online.openDirect(bobUser.id)).id;
    const first = await online.send(channelId, 'one').acked;
    const alice = online.session!;
    await online.close();
    await waitFor(() => bobSeen.length === 1, 10_000, 'the first message at bob');
    return { running, bob, bobSeen, channelId, alice, firstSeq: first.seq };
  }

  it('changes made offline, some to a send still pending, apply exactly once and in order after reconnect', async () => {
    const { running, bob, bobSeen, channelId, alice, firstSeq } = await setUp();
    const { fetch, offline } = switchableFetch();
    const device = client(running.url, { session: alice, fetch });
    cleanups.push(() => device.close());
    const changeEvents: string[] = [];
    device.on('mutation', ({ change, status }) => changeEvents.push(`${change.kind}:${status}`));

    const two = device.send(channelId, 'two');
    const twoId = two.message.clientMsgId;
    const results = [
      device.edit(channelId, firstSeq, 'one, edited'),
      device.react(channelId, firstSeq, '👍'),
      device.edit(channelId, twoId, 'two, edited'),
      device.react(channelId, twoId, '🎉'),
    ];
    await waitFor(() => device.pendingChanges().length === 4, 5_000, 'four queued changes');
    expect(device.pendingChanges().map((c) => [c.kind, c.target])).toEqual([
      ['edit', { seq: firstSeq }],
      ['react', { seq: firstSeq }],
      ['edit', { clientMsgId: twoId }],
      ['react', { clientMsgId: twoId }],
    ]);
    // The optimistic view, offline: the cached history shows the pending edit and reaction.
    const page = await device.history(channelId);
    expect(page.source).toBe('cache');

    offline.on = false;
    await device.connect();
    const settled = await Promise.all(results);
    expect(settled.map((r) => r.entry?.kind)).toEqual(['edited', 'reaction', 'edited', 'reaction']);
    const twoSeq = (await two.acked).seq;
    await waitFor(() => bobSeen.length === 6, 10_000, 'every change at bob');
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(bobSeen).toEqual([
      'message:one',
      'message:two',
      `edited:${firstSeq}:one, edited`,
      `reaction:${firstSeq}:👍:true`,
      `edited:${twoSeq}:two, edited`,
      `reaction:${twoSeq}:🎉:true`,
    ]);
    expect(device.pendingChanges()).toEqual([]);
    expect(changeEvents.filter((e) => e.endsWith(':sent'))).toHaveLength(4);
    const stored = (await bob.history(channelId)).messages.filter((m) => m.kind === 'text');
    expect(stored.map((m) => [m.text, m.version, m.reactions?.map((r) => r.emoji)])).toEqual([
      ['one, edited', 2, ['👍']],
      ['two, edited', 2, ['🎉']],
    ]);
  }, 30_000);

  it('shows pending changes in cachedMessages and offline history; a delete leaves no content in cache or history', async () => {
    const { running, bob, bobSeen, channelId, alice, firstSeq } = await setUp();
    const { fetch, offline } = switchableFetch();
    const store = new MemoryStore();
    const warm = client(running.url, { session: alice, store });
    await warm.connect();
    await warm.whenSynced();
    await warm.close();

    const device = client(running.url, { session: alice, fetch, store });
    cleanups.push(() => device.close());
    const edited = device.edit(channelId, firstSeq, 'one, edited');
    const reacted = device.react(channelId, firstSeq, '👀');
    await waitFor(() => device.pendingChanges().length === 2, 5_000, 'two queued changes');
    const view = (await device.cachedMessages(channelId)).find((m) => m.seq === firstSeq);
    expect(view).toMatchObject({ text: 'one, edited', reactions: [{ emoji: '👀', count: 1, me: true }] });
    const deleted = device.delete(channelId, firstSeq);
    await waitFor(() => device.pendingChanges().length === 3, 5_000, 'the delete queued');
    const offlinePage = await device.history(channelId);
    expect(offlinePage.source).toBe('cache');
    const tombstone = offlinePage.messages.find((m) => m.seq === firstSeq);
    expect(tombstone).toMatchObject({ text: '', deletedBy: alice.user.id });
    expect(tombstone?.reactions).toBeUndefined();
    expect(JSON.stringify(offlinePage.messages)).not.toContain('one');

    offline.on = false;
    await device.connect();
    await Promise.all([edited, reacted, deleted]);
    await waitFor(() => bobSeen.length === 4, 10_000, 'edit, reaction and delete at bob');
    expect(bobSeen.slice(1)).toEqual([
      `edited:${firstSeq}:one, edited`,
      `reaction:${firstSeq}:👀:true`,
      `deleted:${firstSeq}`,
    ]);
    await device.whenSynced();
    // The cache now holds the server's tombstone: nothing of the content, with or without pending changes.
    expect(device.pendingChanges()).toEqual([]);
    expect(JSON.stringify(await device.cachedMessages(channelId))).not.toMatch(/one|👀/);
    expect(JSON.stringify(await store.getMessages(channelId))).not.toMatch(/one|👀/);
    expect(JSON.stringify(await bob.cachedMessages(channelId))).not.toMatch(/one|👀/);
  }, 30_000);

  it('deleting a message whose send is still pending cancels it, with the changes waiting for it', async () => {
    const { running, bob, bobSeen, channelId, alice } = await setUp();
    const device = client(running.url, { session: alice });
    cleanups.push(() => device.close());
    const oops = device.send(channelId, 'oops');
    const reaction = device.react(channelId, oops.message.clientMsgId, '😬');
    await waitFor(() => device.pendingChanges().length === 1, 5_000, 'the reaction queued');
    expect(await device.delete(channelId, oops.message.clientMsgId)).toEqual({
      entry: null,
      duplicate: false,
    });
    await expect(oops.acked).rejects.toMatchObject({ code: 'NATTER_CLIENT_DISCARDED' });
    await expect(reaction).rejects.toMatchObject({ code: 'NATTER_CLIENT_DISCARDED' });
    expect(device.pending()).toEqual([]);
    expect(device.pendingChanges()).toEqual([]);

    await device.connect();
    await device.send(channelId, 'after').acked;
    await waitFor(() => bobSeen.length === 2, 10_000, 'the next message at bob');
    expect(bobSeen).toEqual(['message:one', 'message:after']);
    const texts = (await bob.history(channelId)).messages.map((m) => m.text);
    expect(texts).not.toContain('oops');
  }, 30_000);

  it('a change the server refuses fails with its typed code, like a failed send', async () => {
    const { running, channelId, alice, firstSeq } = await setUp();
    const bobSide = client(running.url);
    cleanups.push(() => bobSide.close());
    await bobSide.login('bob', 'password-bob');
    await bobSide.connect();
    const device = client(running.url, { session: alice });
    cleanups.push(() => device.close());
    await device.connect();
    const other = await device.send(channelId, 'two').acked;
    await device.delete(channelId, firstSeq);
    const failures: string[] = [];
    device.on('mutation', ({ status, error }) => {
      if (status === 'failed') failures.push(String(error?.code));
    });
    await expect(device.edit(channelId, firstSeq, 'too late')).rejects.toMatchObject({
      code: 'NATTER_MESSAGE_DELETED',
    });
    await expect(bobSide.edit(channelId, other.seq, 'not mine')).rejects.toMatchObject({
      code: 'NATTER_FORBIDDEN',
    });
    expect(failures).toEqual(['NATTER_MESSAGE_DELETED']);
    const [failed] = device.pendingChanges();
    expect(failed).toMatchObject({
      kind: 'edit',
      status: 'failed',
      error: { code: 'NATTER_MESSAGE_DELETED' },
    });
    expect(await device.discard(failed!.clientId)).toBe(true);
    expect(device.pendingChanges()).toEqual([]);
  }, 30_000);

  it('changes queued before the app quit are applied once by the next instance on the same LevelDB store', async () => {
    const { running, bobSeen, channelId, alice, firstSeq } = await setUp();
    const dir = tempDir('natter-level-changes-');
    cleanups.push(() => dir.cleanup());
    const first = client(running.url, { session: alice, store: new LevelStore(dir.path) });
    const later = first.send(channelId, 'written offline');
    void first.edit(channelId, later.message.clientMsgId, 'written offline, edited');
    void first.react(channelId, firstSeq, '🔁');
    void first.react(channelId, firstSeq, '🔁', false);
    await waitFor(() => first.pendingChanges().length === 3, 5_000, 'three queued changes');
    await first.close();

    const second = client(running.url, { session: alice, store: new LevelStore(dir.path) });
    cleanups.push(() => second.close());
    expect(await second.cachedMessages(channelId)).toEqual([]);
    await second.connect();
    await waitFor(() => bobSeen.length === 5, 10_000, 'everything at bob');
    await waitFor(
      () => second.pendingChanges().length === 0 && second.pending().length === 0,
      5_000,
      'an empty outbox',
    );
    await new Promise((resolve) => setTimeout(resolve, 200));
    const laterSeq = firstSeq + 1;
    expect(bobSeen).toEqual([
      'message:one',
      'message:written offline',
      `edited:${laterSeq}:written offline, edited`,
      `reaction:${firstSeq}:🔁:true`,
      `reaction:${firstSeq}:🔁:false`,
    ]);
  }, 30_000);

  it('two tabs sharing a store apply each change once (leases), whichever tab sends it', async () => {
    const { running, bob, bobSeen, channelId, alice, firstSeq } = await setUp();
    const shared = new MemoryStore();
    const timings = { session: alice, store: shared, outboxLeaseMs: 2_000 };
    const tabA = client(running.url, timings);
    const tabB = client(running.url, timings);
    cleanups.push(
      () => tabA.close(),
      () => tabB.close(),
    );
    const changes = Array.from({ length: 10 }, (_, i) => tabA.react(channelId, firstSeq, `e${i}`));
    const edit = tabA.edit(channelId, firstSeq, 'edited once');
    await waitFor(() => tabA.pendingChanges().length === 11, 5_000, 'eleven queued changes');
    await Promise.all([tabA.connect(), tabB.connect()]);
    await Promise.allSettled([...changes, edit]);
    await waitFor(() => bobSeen.length === 12, 15_000, 'every change at bob');
    await waitFor(() => tabB.pendingChanges().length === 0, 10_000, 'the second tab sees an empty outbox');
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(bobSeen.slice(1)).toEqual([
      ...Array.from({ length: 10 }, (_, i) => `reaction:${firstSeq}:e${i}:true`),
      `edited:${firstSeq}:edited once`,
    ]);
    const [message] = (await bob.history(channelId)).messages.filter((m) => m.kind === 'text');
    expect(message?.version).toBe(2);
    expect(message?.reactions).toHaveLength(10);
  }, 30_000);
});
