import { join } from 'node:path';
import { newId } from '@natter/protocol';
import { internalsOf } from '@natter/server-core/internals';
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryStore } from '../../src/index.js';
import { client, type RunningServer, startServer, tempDir, waitFor } from './harness.js';

describe('catch-up after a long absence (real server)', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it('a client offline for 10,000 messages catches up completely, in order', async () => {
    const dir = tempDir();
    cleanups.push(() => dir.cleanup());
    const running: RunningServer = await startServer({ dbPath: join(dir.path, 'natter.db') });
    cleanups.push(() => running.stop());

    const alice = client(running.url);
    cleanups.push(() => alice.close());
    const aliceUser = await alice.signup('alice', 'password-alice');
    const bobStore = new MemoryStore();
    const bob = client(running.url, { store: bobStore });
    const bobUser = await bob.signup('bob', 'password-bob');
    const session = bob.session!;
    await bob.connect();
    await bob.whenSynced();
    await bob.close();

    // 10,000 messages over 4 channels while Bob is away, written through the server's own API.
    const channels = [(await alice.openDirect(bobUser.id)).id];
    for (let g = 0; g < 3; g++) channels.push((await alice.createGroup(`g${g}`, [bobUser.id])).id);
    const TOTAL = 10_000;
    const writeStart = performance.now();
    for (let i = 0; i < TOTAL; i += 200) {
      await Promise.all(
        Array.from({ length: Math.min(200, TOTAL - i) }, (_, j) =>
          internalsOf(running.server).service.sendMessage(aliceUser.id, {
            channelId: channels[(i + j) % channels.length]!,
            clientMsgId: newId(),
            text: `message ${i + j}`,
          }),
        ),
      );
    }
    const writeMs = performance.now() - writeStart;

    const back = client(running.url, { store: bobStore, session });
    cleanups.push(() => back.close());
    let texts = 0;
    let lastPos = back.cursor().pos;
    let ordered = true;
    back.on('message', ({ pos, message }) => {
      if (pos !== lastPos + 1) ordered = false;
      lastPos = pos;
      if (message.kind === 'text') texts++;
    });
    const start = performance.now();
    await back.connect();
    await back.whenSynced();
    await waitFor(() => texts === TOTAL, 30_000, 'the whole backlog');
    const catchUpMs = performance.now() - start;
    console.log(
      `catch-up: ${TOTAL} messages in ${catchUpMs.toFixed(0)} ms ` +
        `(${Math.round(TOTAL / (catchUpMs / 1000))} msg/s; server wrote them in ${writeMs.toFixed(0)} ms)`,
    );
    expect(ordered).toBe(true);
    expect(texts).toBe(TOTAL);
    expect(back.stats().resyncs).toBe(0);
    // The cache holds the newest messages of each channel, within its bound.
    const cached = await back.cachedMessages(channels[0]!, { limit: 1_000 });
    expect(cached.length).toBeLessThanOrEqual(500);
    expect(cached.at(-1)?.text).toBe(`message ${TOTAL - 4}`);
    await waitFor(() => true);
  }, 60_000);
});
