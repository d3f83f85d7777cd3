import { copyFileSync, existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type {
  ChatClient,
  Message,
  ResyncEvent,
  StateChange,
  StorageErrorEvent,
  TypingEvent,
} from '../../src/index.js';
import { MemoryStore } from '../../src/index.js';
import { QuotaStore } from '../helpers/quota-store.js';
import { client, type RunningServer, startServer, tempDir, waitFor } from './harness.js';

describe('client features against a real server', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  const track = (c: ChatClient) => {
    cleanups.push(() => c.close());
    return c;
  };
  async function serve(options: Parameters<typeof startServer>[0] = {}): Promise<RunningServer> {
    const running = await startServer(options);
    cleanups.push(() => running.stop());
    return running;
  }

  it('refreshes an expired token after 4001 and carries on without losing messages', async () => {
    const running = await serve({ accessTtlSeconds: 1 });
    const alice = track(client(running.url));
    const bob = track(client(running.url));
    const states: StateChange[] = [];
    alice.on('state', (s) => states.push(s));
    const sessions: number[] = [];
    alice.on('session', (s) => s && sessions.push(s.expiresAt));
    await alice.signup('alice', 'password-alice');
    const bobUser = await bob.signup('bob', 'password-bob');
    const got: string[] = [];
    bob.on('message', ({ message }) => message.kind === 'text' && got.push(message.text));
    await alice.connect();
    await bob.connect();
    const channel = await alice.openDirect(bobUser.id);
    for (let i = 0; i < 8; i++) {
      await alice.send(channel.id, `tick ${i}`).acked;
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
    await waitFor(() => got.length === 8, 5_000, 'all ticks');
    expect(got).toEqual(Array.from({ length: 8 }, (_, i) => `tick ${i}`));
    expect(states.some((s) => s.reason === 'token-expired' && s.closeCode === 4001)).toBe(true);
    expect(sessions.length).toBeGreaterThan(1);
  }, 20_000);

  it('sends a message queued between close() and connect() as soon as the connection opens again', async () => {
    const running = await serve();
    const alice = track(client(running.url));
    const bob = track(client(running.url));
    await alice.signup('alice', 'password-alice');
    const bobUser = await bob.signup('bob', 'password-bob');
    await alice.connect();
    const channel = await alice.openDirect(bobUser.id);
    await alice.send(channel.id, 'before close').acked;
    await alice.close();
    const queued = alice.send(channel.id, 'queued while closed');
    expect(queued.message.status).toBe('pending');
    const reopened = Date.now();
    await alice.connect();
    const stored = await queued.acked;
    expect(stored.text).toBe('queued while closed');
    // Within a connection's set-up, not a lease or a rescan period later.
    expect(Date.now() - reopened).toBeLessThan(2_000);
    expect(alice.pending()).toEqual([]);
  }, 15_000);

  it('resyncs from scratch when the server was restored from an older backup', async () => {
    const dir = tempDir();
    cleanups.push(() => dir.cleanup());
    const dbPath = join(dir.path, 'natter.db');
    const backup = join(dir.path, 'backup.db');
    let running = await startServer({ dbPath });
    const port = running.port;
    cleanups.push(() => running.stop());
    const alice = track(client(running.url));
    const bob = track(client(running.url, { store: new MemoryStore() }));
    await alice.signup('alice', 'password-alice');
    const bobUser = await bob.signup('bob', 'password-bob');
    const channel = await alice.openDirect(bobUser.id);
    await alice.connect();
    await alice.send(channel.id, 'before the backup').acked;
    await running.stop();
    copyFileSync(dbPath, backup);
    running = await startServer({ dbPath, port });
    await bob.connect();
    await bob.whenSynced();
    for (let i = 0; i < 3; i++) await alice.send(channel.id, `lost ${i}`).acked;
    await waitFor(() => bob.cursor().pos === 5, 5_000, 'bob to see every message');
    // Disaster: the database is restored from the backup (same epoch, shorter log).
    await running.stop();
    for (const suffix of ['', '-wal', '-shm']) if (existsSync(dbPath + suffix)) rmSync(dbPath + suffix);
    copyFileSync(backup, dbPath);
    const resyncs: ResyncEvent[] = [];
    const after: Message[] = [];
    bob.on('resync', (e) => resyncs.push(e));
    bob.on('message', ({ message }) => after.push(message));
    running = await startServer({ dbPath, port });
    await waitFor(() => resyncs.length === 1, 10_000, 'a resync');
    await bob.whenSynced();
    expect(resyncs[0]?.previous.pos).toBe(5);
    expect(after.map((m) => m.text)).toEqual(['', 'before the backup']);
    expect(bob.cursor().pos).toBe(2);
    expect((await bob.cachedMessages(channel.id)).map((m) => m.text)).toEqual(['', 'before the backup']);
    expect(bob.stats().resyncs).toBe(1);
  }, 30_000);

  it('keeps sending and receiving when local storage is full', async () => {
    const running = await serve();
    const broken = new QuotaStore();
    broken.quota.failAll = true;
    const storageErrors: StorageErrorEvent[] = [];
    const alice = track(client(running.url, { store: broken }));
    alice.on('storage-error', (e) => storageErrors.push(e));
    const bob = track(client(running.url));
    await alice.signup('alice', 'password-alice');
    const bobUser = await bob.signup('bob', 'password-bob');
    const received: string[] = [];
    alice.on('message', ({ message }) => message.kind === 'text' && received.push(message.text));
    await alice.connect();
    await bob.connect();
    const channel = await alice.openDirect(bobUser.id);
    await alice.send(channel.id, 'from a full disk').acked;
    await bob.send(channel.id, 'reply').acked;
    await waitFor(() => received.length === 2, 5_000, 'both messages');
    expect(storageErrors.some((e) => e.quota && e.action === 'memory-fallback')).toBe(true);
    expect(alice.stats().storage).toBe('memory');
    expect((await alice.cachedMessages(channel.id)).map((m) => m.text)).toEqual([
      '',
      'from a full disk',
      'reply',
    ]);
  });

  it('keeps cached channels in step with group changes, and relays typing, presence and read markers', async () => {
    const running = await serve();
    const alice = track(client(running.url, { discovery: true }));
    const bob = track(client(running.url));
    await alice.signup('alice', 'password-alice');
    const bobUser = await bob.signup('bob', 'password-bob');
    const carol = track(client(running.url));
    const carolUser = await carol.signup('carol', 'password-carol');
    await alice.connect();
    await bob.connect();
    await alice.whenSynced();
    await bob.whenSynced();
    await bob.listChannels();
    const group = await alice.createGroup('team', [bobUser.id]);
    await waitFor(() => bob.cursor().pos === 1, 5_000, 'bob to learn about the group');
    expect((await bob.cachedChannels()).map((c) => c.name)).toEqual(['team']);
    await alice.renameGroup(group.id, 'crew');
    await alice.addMembers(group.id, [carolUser.id]);
    await waitFor(() => bob.cursor().pos === 3, 5_000, 'the rename and the join');
    expect((await bob.cachedChannels())[0]).toMatchObject({
      name: 'crew',
      memberIds: expect.arrayContaining([carolUser.id]),
    });

    const typing: TypingEvent[] = [];
    bob.on('typing', (e) => typing.push(e));
    alice.setTyping(group.id);
    await waitFor(() => typing.length === 1, 5_000, 'a typing event');
    expect(typing[0]).toMatchObject({ channelId: group.id, active: true });

    const presence = await alice.getPresence({ channelId: group.id });
    expect(presence.find((p) => p.userId === bobUser.id)?.status).toBe('online');

    await alice.send(group.id, 'read me').acked;
    await waitFor(() => bob.cursor().pos === 4, 5_000, 'the message');
    expect((await bob.cachedChannels())[0]?.unread).toBeGreaterThan(0);
    const marker = await bob.markRead(group.id, 4);
    expect(marker.unread).toBe(0);
    expect((await bob.cachedChannels())[0]).toMatchObject({ readSeq: 4, unread: 0 });

    await alice.removeMember(group.id, bobUser.id);
    await waitFor(() => bob.cursor().pos === 5, 5_000, 'the removal');
    expect(await bob.cachedChannels()).toEqual([]);
    await expect(bob.send(group.id, 'still here?').acked).rejects.toMatchObject({ code: 'NATTER_NOT_FOUND' });
    expect(bob.pending().map((p) => p.status)).toEqual(['failed']);
  }, 20_000);
});
