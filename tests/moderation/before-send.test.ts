import { ErrorCode } from '@natter/protocol';
import type { BeforeSend } from '@natter/server-core';
import { afterEach, describe, expect, it } from 'vitest';
import { api, signup, startServer, type TestServer, type TestUser } from '../helpers/server.js';
import { RawClient } from '../helpers/ws-client.js';

let ts: TestServer;
const clients: RawClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await ts?.stop();
});

/** An app's filter: masks one word, refuses links, stalls on "slow", throws on "boom". */
const filter: BeforeSend = async ({ text }) => {
  if (text.includes('http://')) return { action: 'reject', message: 'links are not allowed here' };
  if (text.includes('slow')) await new Promise((r) => setTimeout(r, 500));
  if (text.includes('boom')) throw new Error('filter crashed');
  if (text.includes('darn')) return { action: 'rewrite', text: text.replaceAll('darn', '****') };
  return { action: 'allow' };
};

async function setup(): Promise<{
  sender: RawClient;
  reader: RawClient;
  channelId: string;
  alice: TestUser;
}> {
  ts = await startServer({ moderation: { beforeSend: filter, beforeSendTimeoutMs: 200 } });
  const [alice, bob] = await Promise.all([signup(ts.url), signup(ts.url)]);
  const dm = await api<{ channel: { id: string } }>(ts.url, alice, 'POST', '/v1/channels/direct', {
    userId: bob.id,
  });
  const sender = await RawClient.connect(ts.url, alice.accessToken);
  const reader = await RawClient.connect(ts.url, bob.accessToken);
  clients.push(sender, reader);
  return { sender, reader, channelId: dm.body.channel.id, alice };
}

async function textsInHistory(alice: TestUser, channelId: string): Promise<string[]> {
  const page = await api<{ messages: { text: string; kind: string }[] }>(
    ts.url,
    alice,
    'GET',
    `/v1/channels/${channelId}/messages`,
  );
  return page.body.messages.filter((m) => m.kind === 'text').map((m) => m.text);
}

describe('beforeSend: the app’s message filter', () => {
  it('allows, and stores a rewrite everywhere: ack, live frame and history carry the rewritten text', async () => {
    const { sender, reader, channelId, alice } = await setup();
    expect(await sender.request({ t: 'send', channelId, clientMsgId: 'm1', text: 'hello' })).toMatchObject({
      t: 'ack',
    });
    const ack = await sender.request({ t: 'send', channelId, clientMsgId: 'm2', text: 'darn it' });
    expect(ack).toMatchObject({ t: 'ack', entry: { message: { text: '**** it' } } });
    await reader.waitForEntries(2);
    expect(reader.entries().map((e) => e.message.text)).toContain('**** it');
    expect(await textsInHistory(alice, channelId)).toEqual(['hello', '**** it']);
  });

  it('refuses with NATTER_MESSAGE_REJECTED and the app’s reason; nothing is stored or delivered', async () => {
    const { sender, reader, channelId, alice } = await setup();
    const answer = await sender.request({ t: 'send', channelId, clientMsgId: 'm1', text: 'see http://spam' });
    expect(answer).toMatchObject({
      t: 'error',
      code: ErrorCode.MESSAGE_REJECTED,
      message: 'links are not allowed here',
    });
    expect(await textsInHistory(alice, channelId)).toEqual([]);
    expect(reader.entries().filter((e) => e.message.kind === 'text')).toHaveLength(0);
  });

  it('fails closed with a retryable NATTER_UNAVAILABLE when the filter times out or throws', async () => {
    const { sender, channelId, alice } = await setup();
    const slow = await sender.request({ t: 'send', channelId, clientMsgId: 'm1', text: 'slow one' });
    expect(slow).toMatchObject({ t: 'error', code: ErrorCode.UNAVAILABLE, retryAfterMs: 1_000 });
    const crashed = await sender.request({ t: 'send', channelId, clientMsgId: 'm2', text: 'boom' });
    expect(crashed).toMatchObject({ t: 'error', code: ErrorCode.UNAVAILABLE });
    expect(await textsInHistory(alice, channelId)).toEqual([]);
  });
});
