import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryStore } from '../../src/index.js';
import { client, type RunningServer, startServer, tempDir, waitFor } from './harness.js';

/** Polls an async condition, bounded in time. */
async function eventually(predicate: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('message lifecycle through the SDK (real server)', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it('edits, reactions and deletes reach the other device live and an offline device through sync; caches follow', async () => {
    const dir = tempDir();
    cleanups.push(() => dir.cleanup());
    const running: RunningServer = await startServer({ dbPath: join(dir.path, 'natter.db') });
    cleanups.push(() => running.stop());

    const alice = client(running.url);
    cleanups.push(() => alice.close());
    await alice.signup('alice', 'password-alice');
    const bobStore = new MemoryStore();
    const bob = client(running.url, { store: bobStore });
    const bobUser = await bob.signup('bob', 'password-bob');
    const bobSession = bob.session!;
    const offlineStore = new MemoryStore();
    const offline = client(running.url, { store: offlineStore, session: bobSession });
    await alice.connect();
    await bob.connect();
    await offline.connect();
    const channelId = (await alice.openDirect(bobUser.id)).id;
    const sent = await alice.send(channelId, 'helo').acked;
    await bob.whenSynced();
    await eventually(async () => (await offline.cachedMessages(channelId)).some((m) => m.seq === sent.seq));
    await offline.close();

    const events: string[] = [];
    bob.on('messageEdited', ({ message }) => events.push(`edited:${message.text}`));
    bob.on('reactionChanged', ({ emoji, added }) => events.push(`reaction:${emoji}:${added}`));
    bob.on('messageDeleted', ({ message }) => events.push(`deleted:${message.seq}`));

    expect((await alice.edit(channelId, sent.seq, 'hello')).entry).toMatchObject({ kind: 'edited' });
    expect((await alice.react(channelId, sent.seq, '👍')).entry).toMatchObject({
      kind: 'reaction',
      added: true,
    });
    expect((await alice.react(channelId, sent.seq, '👍')).entry).toBeNull();
    await waitFor(() => events.length === 2);
    const cachedText = async (c: typeof bob) =>
      (await c.cachedMessages(channelId)).find((m) => m.seq === sent.seq);
    expect(await cachedText(bob)).toMatchObject({
      text: 'hello',
      reactions: [{ emoji: '👍', count: 1, me: false }],
    });
    expect(await alice.reactors(channelId, sent.seq, '👍')).toEqual({
      userIds: [alice.userId],
      hasMore: false,
    });

    await alice.delete(channelId, sent.seq);
    await waitFor(() => events.length === 3);
    expect(events).toEqual(['edited:hello', 'reaction:👍:true', `deleted:${sent.seq}`]);
    expect(await cachedText(bob)).toMatchObject({ text: '', deletedBy: alice.userId });
    expect(JSON.stringify(await bob.cachedMessages(channelId))).not.toContain('hello');

    // The device that was offline learns all three on sync, and its cache drops the content too.
    const back = client(running.url, { store: offlineStore, session: bobSession });
    cleanups.push(() => back.close());
    const seen: string[] = [];
    back.on('messageEdited', () => seen.push('edited'));
    back.on('reactionChanged', () => seen.push('reaction'));
    back.on('messageDeleted', () => seen.push('deleted'));
    await back.connect();
    await back.whenSynced();
    expect(seen).toEqual(['edited', 'reaction', 'deleted']);
    expect(JSON.stringify(await back.cachedMessages(channelId))).not.toContain('hel');
    expect(back.stats().unknownEntriesSkipped).toBe(0);
  });

  it('replies carry their parent preview and threads page through threadHistory', async () => {
    const dir = tempDir();
    cleanups.push(() => dir.cleanup());
    const running: RunningServer = await startServer({ dbPath: join(dir.path, 'natter.db') });
    cleanups.push(() => running.stop());
    const alice = client(running.url);
    cleanups.push(() => alice.close());
    await alice.signup('alice2', 'password-alice');
    await alice.connect();
    const group = await alice.createGroup('g', []);
    const root = await alice.send(group.id, 'root').acked;
    for (let i = 0; i < 3; i++) await alice.send(group.id, `t${i}`, { threadRoot: root.seq }).acked;
    const reply = await alice.send(group.id, 'answer', { replyTo: root.seq }).acked;
    expect(reply.replyPreview).toEqual({ senderId: alice.userId, text: 'root', deleted: false });
    const page = await alice.threadHistory(group.id, root.seq, { limit: 2 });
    expect(page.messages.map((m) => m.text)).toEqual(['t1', 't2']);
    expect(page.hasMoreBefore).toBe(true);
    await eventually(
      async () => (await alice.cachedMessages(group.id)).find((m) => m.seq === root.seq)?.threadReplies === 3,
    );
  });
});
