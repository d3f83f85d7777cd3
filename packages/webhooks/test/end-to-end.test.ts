import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SUBPROTOCOL_JSON } from '@natter/protocol';
import { NatterServerClient } from '@natter/server-client';
import { createNatterServer, type NatterServer, silentLogger } from '@natter/server-core';
import { createMemoryStorage } from '@natter/storage-memory';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createEventWebhooks } from '../src/index.js';
import { type Receiver, startReceiver } from './helpers/receiver.js';

const API_KEY = 'backend-key-backend-key-backend-key-01';
const WEBHOOK_SECRET = 'webhook-secret-webhook-secret-0123';

let natter: NatterServer | undefined;
let receiver: Receiver | undefined;
let dir: string | undefined;
afterEach(async () => {
  await natter?.close();
  await receiver?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function waitFor<T>(read: () => T | undefined, timeoutMs = 5_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('event webhooks end to end', () => {
  it('a backend creates a channel through the server client and receives message.created for a message sent in it', async () => {
    receiver = await startReceiver(WEBHOOK_SECRET);
    dir = mkdtempSync(join(tmpdir(), 'natter-e2e-webhooks-'));
    natter = createNatterServer({
      storage: createMemoryStorage(),
      tokens: { secret: 'end-to-end-secret-end-to-end-secret-0123' },
      logger: silentLogger(),
      serverApi: { keys: [{ name: 'backend', key: API_KEY, scopes: '*' }] },
      events: createEventWebhooks({
        dataPath: join(dir, 'events.db'),
        endpoints: [{ name: 'backend', url: receiver.url, secret: WEBHOOK_SECRET }],
        workerIntervalMs: 50,
      }),
    });
    const { url } = await natter.listen(0);
    const backend = new NatterServerClient({ baseUrl: url, apiKey: API_KEY });

    await backend.createUser({ id: 'u-kim', username: 'kim' });
    await backend.createUser({ id: 'u-lee', username: 'lee' });
    const channel = await backend.createChannel({
      kind: 'group',
      name: 'Support',
      ownerId: 'u-kim',
      memberIds: ['u-lee'],
    });
    const { accessToken } = await backend.issueTokens('u-lee');

    // Lee sends over the WebSocket, as any client does.
    const ws = new WebSocket(
      `${url.replace('http', 'ws')}/v1/ws?access_token=${accessToken}`,
      SUBPROTOCOL_JSON,
    );
    await new Promise((resolve, reject) => ws.once('message', resolve).once('error', reject));
    ws.send(
      JSON.stringify({ t: 'send', rid: 1, channelId: channel.id, clientMsgId: 'c1', text: 'I need help' }),
    );

    const created = await waitFor(() => receiver!.events.find((e) => e.type === 'message.created'));
    expect(created.type === 'message.created' && created.data.message).toMatchObject({
      channelId: channel.id,
      senderId: 'u-lee',
      text: 'I need help',
    });
    const channelCreated = receiver.events.find((e) => e.type === 'channel.created');
    expect(channelCreated?.type === 'channel.created' && channelCreated.data.channel.id).toBe(channel.id);
    expect(receiver.rejected).toBe(0);
    // The same events are replayable through the server API.
    const replay = await backend.events();
    expect(replay.events.map((e) => e.id)).toEqual(expect.arrayContaining([created.id, channelCreated!.id]));
    ws.close();
  });
});
