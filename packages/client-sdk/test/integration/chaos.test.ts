import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { ChatClient, Message, SendHandle } from '../../src/index.js';
import { MemoryStore } from '../../src/index.js';
import { client, clientSockets, type RunningServer, startServer, tempDir, waitFor } from './harness.js';

/** Deterministic randomness, so a failure can be replayed. */
function rng(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 16807) % 2147483647;
    return s / 2147483647;
  };
}

interface Device {
  name: string;
  client: ChatClient;
  got: { pos: number; message: Message }[];
}

describe('delivery under failures (real server, real sockets)', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it('delivers 1,000 messages exactly once and in order to every device while sockets die and the server restarts', async () => {
    const dir = tempDir();
    cleanups.push(() => dir.cleanup());
    const dbPath = join(dir.path, 'natter.db');
    let running: RunningServer = await startServer({ dbPath });
    const port = running.port;
    cleanups.push(() => running.stop());

    const device = (name: string): Device => {
      const c = client(running.url, {
        store: new MemoryStore(),
        heartbeatIntervalMs: 1_000,
        pongTimeoutMs: 1_000,
      });
      const d: Device = { name, client: c, got: [] };
      c.on('message', ({ pos, message }) => d.got.push({ pos, message }));
      cleanups.push(() => c.close());
      return d;
    };
    // Alice has two devices, Bob one; Alice's first device and Bob send.
    const a1 = device('alice-1');
    const a2 = device('alice-2');
    const b1 = device('bob-1');
    const alice = await a1.client.signup('alice', 'password-alice');
    const bob = await b1.client.signup('bob', 'password-bob');
    await a2.client.login('alice', 'password-alice');
    for (const d of [a1, a2, b1]) await d.client.connect();
    const direct = await a1.client.openDirect(bob.id);
    const group = await b1.client.createGroup('team', [alice.id]);
    const channels = [direct.id, group.id];

    const random = rng(42);
    const handles: { sender: string; channelId: string; index: number; handle: SendHandle }[] = [];
    const TOTAL = 1_000;
    let restarted = false;
    let kills = 0;
    for (let i = 0; i < TOTAL; i++) {
      const sender = i % 2 === 0 ? a1 : b1;
      const channelId = channels[Math.floor(random() * 2)]!;
      handles.push({
        sender: sender.name,
        channelId,
        index: i,
        handle: sender.client.send(channelId, `${sender.name}#${i}`),
      });
      if (i % 20 === 19) {
        // Let the outboxes work, then break something.
        await new Promise((resolve) => setTimeout(resolve, 10 + random() * 40));
        const r = random();
        if (!restarted && i >= TOTAL / 2) {
          restarted = true;
          await running.stop();
          await new Promise((resolve) => setTimeout(resolve, 100));
          running = await startServer({ dbPath, port });
        } else if (r < 0.5) {
          // The server drops one user's sockets.
          running.server.closeSessions(random() < 0.5 ? alice.id : bob.id, undefined, 1011, 'chaos');
          kills++;
        } else {
          // A client's socket dies without a close handshake.
          const open = clientSockets.filter((s) => s.readyState === WebSocket.OPEN);
          open[Math.floor(random() * open.length)]?.terminate();
          kills++;
        }
      }
    }
    const stored = await Promise.all(handles.map((h) => h.handle.acked));
    expect(restarted).toBe(true);
    expect(kills).toBeGreaterThan(20);

    // Every device ends up with the same gap-free log: positions 1..N, each once, every message once.
    const texts = new Set(stored.map((m) => m.id));
    for (const d of [a1, a2, b1]) {
      await waitFor(
        () => d.got.filter((g) => texts.has(g.message.id)).length >= TOTAL,
        30_000,
        `${d.name} to catch up`,
      );
      await d.client.whenSynced();
      const positions = d.got.map((g) => g.pos);
      expect(positions).toEqual(positions.map((_, i) => i + 1));
      const ids = d.got.map((g) => g.message.id);
      expect(new Set(ids).size).toBe(ids.length);
      const received = d.got.filter((g) => texts.has(g.message.id));
      expect(received).toHaveLength(TOTAL);
      // Per channel, seqs only grow in the order the device emitted them.
      for (const channelId of channels) {
        const seqs = d.got.filter((g) => g.message.channelId === channelId).map((g) => g.message.seq);
        expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
      }
    }
    // Two devices of one user see the very same log.
    expect(a2.got.map((g) => g.message.id)).toEqual(a1.got.map((g) => g.message.id));
    // Per channel and sender, the server stored messages in the order they were sent.
    for (const sender of ['alice-1', 'bob-1']) {
      for (const channelId of channels) {
        const mine = handles
          .map((h, i) => ({ h, m: stored[i]! }))
          .filter(({ h }) => h.sender === sender && h.channelId === channelId);
        const seqs = mine.map(({ m }) => m.seq);
        expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
      }
    }
    // Nothing is left pending, and the server holds each message once.
    for (const d of [a1, a2, b1]) expect(d.client.pending()).toEqual([]);
    for (const channelId of channels) {
      const page = await a1.client.history(channelId, { limit: 200 });
      expect(page.source).toBe('server');
    }
    const stats = [a1, b1].map((d) => d.client.stats());
    console.log(
      `chaos: ${kills} socket kills + 1 server restart; reconnects ${stats.map((s) => s.reconnects).join('/')}, ` +
        `retries ${stats.map((s) => s.retries).join('/')}, gaps filled ${stats.map((s) => s.gapsFilled).join('/')}`,
    );
  }, 60_000);
});
