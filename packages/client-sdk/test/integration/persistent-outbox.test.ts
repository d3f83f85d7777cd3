import { afterEach, describe, expect, it } from 'vitest';
import type { Message } from '../../src/index.js';
import { LevelStore } from '../../src/level.js';
import { client, type RunningServer, startServer, tempDir, waitFor } from './harness.js';

describe('durable outbox on LevelDB (real server)', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it('a new client over the same LevelStore delivers every pending message exactly once', async () => {
    const running: RunningServer = await startServer();
    cleanups.push(() => running.stop());
    const dir = tempDir('natter-level-');
    cleanups.push(() => dir.cleanup());

    const bob = client(running.url);
    cleanups.push(() => bob.close());
    const bobUser = await bob.signup('bob', 'password-bob');
    const received: Message[] = [];
    bob.on('message', ({ message }) => {
      if (message.kind === 'text') received.push(message);
    });
    await bob.connect();

    // First run: 30 messages are written while offline, 30 more while connected; the app quits mid-way.
    const first = client(running.url, { store: new LevelStore(dir.path) });
    await first.signup('alice', 'password-alice');
    const session = first.session!;
    const channel = await first.openDirect(bobUser.id);
    const offline = Array.from({ length: 30 }, (_, i) => first.send(channel.id, `offline ${i}`));
    await waitFor(() => first.pending().length === 30, 5_000, 'offline messages queued');
    await first.connect();
    const online = Array.from({ length: 30 }, (_, i) => first.send(channel.id, `online ${i}`));
    await waitFor(() => received.length >= 5, 10_000, 'the first messages to arrive');
    await first.close();
    const settled = await Promise.allSettled([...offline, ...online].map((h) => h.acked));
    const before = settled.filter((s) => s.status === 'fulfilled').length;
    expect(settled.filter((s) => s.status === 'rejected').length).toBeGreaterThan(0);

    // Second run: a new client on the same directory and session picks up what is left.
    const second = client(running.url, { store: new LevelStore(dir.path), session });
    cleanups.push(() => second.close());
    await second.connect();
    expect(second.deviceId).toBe(session.deviceId);
    await waitFor(() => received.length === 60, 15_000, 'all 60 messages at the recipient');
    await waitFor(() => second.pending().length === 0, 5_000, 'an empty outbox');
    const texts = received.map((m) => m.text);
    expect(new Set(texts).size).toBe(60);
    // Per-channel order survives the restart: offline ones first, each group in send order.
    expect(texts).toEqual([
      ...Array.from({ length: 30 }, (_, i) => `offline ${i}`),
      ...Array.from({ length: 30 }, (_, i) => `online ${i}`),
    ]);
    const page = await second.history(channel.id, { limit: 100 });
    expect(page.messages.filter((m) => m.kind === 'text')).toHaveLength(60);
    console.log(
      `persistent outbox: ${before} acked before the restart, ${60 - before} delivered by the new client`,
    );
  }, 30_000);
});
