import { afterEach, describe, expect, it } from 'vitest';
import type { ChatClient, Message } from '../../src/index.js';
import { client, type RunningServer, startServer, waitFor } from './harness.js';

describe('ChatClient against a real server', () => {
  let running: RunningServer | undefined;
  const clients: ChatClient[] = [];
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
    await running?.stop();
  });

  it('signs up, opens a direct channel, and exchanges messages both ways', async () => {
    running = await startServer();
    const alice = client(running.url);
    const bob = client(running.url, { codec: 'json' });
    clients.push(alice, bob);
    const got: Record<string, Message[]> = { alice: [], bob: [] };
    alice.on('message', ({ message }) => got.alice!.push(message));
    bob.on('message', ({ message }) => got.bob!.push(message));
    await alice.signup('alice', 'password-alice');
    const bobUser = await bob.signup('bob', 'password-bob');
    await alice.connect();
    await bob.connect();
    await alice.whenSynced();
    await bob.whenSynced();
    const channel = await alice.openDirect(bobUser.id);
    const sent = alice.send(channel.id, 'hi bob');
    const stored = await sent.acked;
    expect(stored.text).toBe('hi bob');
    await bob.send(channel.id, 'hi alice').acked;
    await waitFor(() => got.alice!.length === 3 && got.bob!.length === 3, 5_000, 'messages');
    expect(got.alice!.map((m) => m.kind)).toEqual(['system', 'text', 'text']);
    expect(got.bob!.map((m) => m.text)).toEqual(['', 'hi bob', 'hi alice']);
    expect(alice.cursor().pos).toBe(3);
    const history = await bob.history(channel.id);
    expect(history.messages.map((m) => m.seq)).toEqual([1, 2, 3]);
    expect((await bob.cachedMessages(channel.id)).map((m) => m.seq)).toEqual([1, 2, 3]);
    const channels = await alice.listChannels();
    expect(channels[0]).toMatchObject({ id: channel.id, lastSeq: 3 });
    expect((await alice.me()).username).toBe('alice');
  });
});
