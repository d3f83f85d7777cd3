import type { AckFrame, ErrorFrame, HistoryPageFrame, Message, SyncPageFrame } from '@natter/protocol';
import { isMessageEntry } from '@natter/protocol';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { api, signup, startServer, type TestServer, type TestUser } from './helpers/server.js';
import { RawClient } from './helpers/ws-client.js';

let ts: TestServer;
const clients: RawClient[] = [];

beforeEach(async () => {
  ts = await startServer();
});
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await ts.stop();
});

async function connect(user: TestUser, device?: string): Promise<RawClient> {
  const c = await RawClient.connect(ts.url, user.accessToken, device ? { device } : {});
  clients.push(c);
  return c;
}

async function openDirect(a: TestUser, b: TestUser): Promise<string> {
  const res = await api<{ channel: { id: string } }>(ts.url, a, 'POST', '/v1/channels/direct', {
    userId: b.id,
  });
  expect(res.status).toBe(200);
  return res.body.channel.id;
}

async function send(
  c: RawClient,
  channelId: string,
  text: string,
  clientMsgId = `m${Math.random().toString(36).slice(2)}`,
) {
  return c.request({ t: 'send', channelId, clientMsgId, text });
}

describe('1-1 chat', () => {
  it('delivers a message to the recipient and to the sender’s other devices, and acks with server ids', async () => {
    const alice = await signup(ts.url);
    const bob = await signup(ts.url);
    const channelId = await openDirect(alice, bob);
    const aliceLaptop = await connect(alice, 'laptop');
    const alicePhone = await connect(alice, 'phone');
    const bobPhone = await connect(bob, 'phone');

    const ack = (await send(aliceLaptop, channelId, 'hi bob', 'cm-1')) as AckFrame;
    expect(ack.t).toBe('ack');
    expect(ack.duplicate).toBe(false);
    expect(ack.entry.message).toMatchObject({
      channelId,
      seq: 2,
      senderId: alice.id,
      clientMsgId: 'cm-1',
      text: 'hi bob',
    });
    expect(ack.entry.message.id).toMatch(/^[0-9A-Z]{26}$/);

    const [bobGot] = (await bobPhone.waitForEntries(1)).filter((e) => e.message.kind === 'text');
    expect(bobGot?.message).toEqual(ack.entry.message);
    const [phoneGot] = await alicePhone.waitForEntries(1);
    expect(phoneGot).toEqual(ack.entry);
    // The sending connection gets the ack, not a second copy.
    expect(aliceLaptop.frames.filter((f) => f.t === 'msg')).toHaveLength(0);
  });

  it('returns the original ack for a retried clientMsgId and stores one message', async () => {
    const alice = await signup(ts.url);
    const bob = await signup(ts.url);
    const channelId = await openDirect(alice, bob);
    const a = await connect(alice);
    const first = (await send(a, channelId, 'once', 'same-id')) as AckFrame;
    const retry = (await send(a, channelId, 'once', 'same-id')) as AckFrame;
    expect(retry.duplicate).toBe(true);
    expect(retry.entry).toEqual(first.entry);
    const page = (await a.request({ t: 'history', channelId })) as HistoryPageFrame;
    expect(page.messages.filter((m) => m.kind === 'text')).toHaveLength(1);
  });
});

describe('groups', () => {
  it('delivers to every member of a group of 100, on every device', async () => {
    const users = await Promise.all(Array.from({ length: 100 }, () => signup(ts.url)));
    const [owner, ...rest] = users as [TestUser, ...TestUser[]];
    const created = await api<{ channel: { id: string; memberIds: string[] } }>(
      ts.url,
      owner,
      'POST',
      '/v1/groups',
      {
        name: 'hundred',
        memberIds: rest.map((u) => u.id),
      },
    );
    expect(created.status).toBe(201);
    expect(created.body.channel.memberIds).toHaveLength(100);
    const channelId = created.body.channel.id;
    const sockets = await Promise.all(users.map((u) => connect(u)));
    const secondDevices = await Promise.all(rest.slice(0, 5).map((u) => connect(u, 'second')));

    const ack = (await send(sockets[0]!, channelId, 'hello everyone')) as AckFrame;
    expect(ack.t).toBe('ack');
    for (const s of [...sockets.slice(1), ...secondDevices]) {
      const entries = await s.waitForEntries(1);
      expect(entries.map((e) => e.message.id)).toContain(ack.entry.message.id);
    }
  });

  it('refuses the 101st member on create and on add', async () => {
    const users = await Promise.all(Array.from({ length: 101 }, () => signup(ts.url)));
    const [owner, ...rest] = users as [TestUser, ...TestUser[]];
    const tooBig = await api<{ error: { code: string } }>(ts.url, owner, 'POST', '/v1/groups', {
      name: 'too big',
      memberIds: rest.map((u) => u.id),
    });
    expect(tooBig.status).toBe(409);
    expect(tooBig.body.error.code).toBe('NATTER_GROUP_FULL');

    const full = await api<{ channel: { id: string } }>(ts.url, owner, 'POST', '/v1/groups', {
      name: 'full',
      memberIds: rest.slice(0, 99).map((u) => u.id),
    });
    expect(full.status).toBe(201);
    const add = await api<{ error: { code: string } }>(
      ts.url,
      owner,
      'POST',
      `/v1/groups/${full.body.channel.id}/members`,
      {
        userIds: [rest[99]!.id],
      },
    );
    expect(add.status).toBe(409);
    expect(add.body.error.code).toBe('NATTER_GROUP_FULL');
    const channel = await api<{ channel: { memberIds: string[] } }>(
      ts.url,
      owner,
      'GET',
      `/v1/channels/${full.body.channel.id}`,
    );
    expect(channel.body.channel.memberIds).toHaveLength(100);
  });
});

describe('multi-device sync', () => {
  it('gives a device that was offline exactly the entries it missed, in order, paged', async () => {
    const alice = await signup(ts.url);
    const bob = await signup(ts.url);
    const channelId = await openDirect(alice, bob);
    const bobDevice = await connect(bob, 'tablet');
    const cursor = bobDevice.hello.head;
    const epoch = bobDevice.hello.epoch;
    bobDevice.close();
    await bobDevice.closed;

    const a = await connect(alice);
    const sent: Message[] = [];
    for (let i = 0; i < 25; i++) sent.push(((await send(a, channelId, `m${i}`)) as AckFrame).entry.message);

    const back = await connect(bob, 'tablet');
    const got: Message[] = [];
    let after = cursor;
    for (;;) {
      const page = (await back.request({ t: 'sync', epoch, after, limit: 10 })) as SyncPageFrame;
      expect(page.t).toBe('sync.page');
      for (const e of page.entries) {
        expect(e.pos).toBe(after + 1);
        after = e.pos;
        if (isMessageEntry(e)) got.push(e.message);
      }
      if (!page.hasMore) break;
    }
    expect(got.map((m) => m.id)).toEqual(sent.map((m) => m.id));
  });

  it('answers a cursor from another epoch or ahead of the log with RESYNC_REQUIRED', async () => {
    const alice = await signup(ts.url);
    const a = await connect(alice);
    const wrongEpoch = (await a.request({ t: 'sync', epoch: 'other', after: 0 })) as ErrorFrame;
    expect(wrongEpoch).toMatchObject({ t: 'error', code: 'NATTER_RESYNC_REQUIRED' });
    const ahead = (await a.request({
      t: 'sync',
      epoch: a.hello.epoch,
      after: a.hello.head + 5,
    })) as ErrorFrame;
    expect(ahead).toMatchObject({ t: 'error', code: 'NATTER_RESYNC_REQUIRED' });
    const noEpoch = (await a.request({ t: 'sync', after: 3 })) as ErrorFrame;
    expect(noEpoch).toMatchObject({ t: 'error', code: 'NATTER_RESYNC_REQUIRED' });
  });

  it('keeps history and sync across a server restart', async () => {
    const alice = await signup(ts.url);
    const bob = await signup(ts.url);
    const channelId = await openDirect(alice, bob);
    const a = await connect(alice);
    const before = (await send(a, channelId, 'before restart')) as AckFrame;
    a.close();
    ts = await ts.restart();
    const again = await connect(alice);
    expect(again.hello.epoch).toBe(a.hello.epoch);
    const page = (await again.request({ t: 'sync', epoch: again.hello.epoch, after: 0 })) as SyncPageFrame;
    expect(page.entries.filter(isMessageEntry).map((e) => e.message.id)).toContain(before.entry.message.id);
    const after = (await send(again, channelId, 'after restart')) as AckFrame;
    expect(after.entry.message.seq).toBe(before.entry.message.seq + 1);
    expect(after.entry.pos).toBe(before.entry.pos + 1);
  });
});

describe('history', () => {
  it('pages before, after and around a message', async () => {
    const alice = await signup(ts.url);
    const bob = await signup(ts.url);
    const channelId = await openDirect(alice, bob);
    const a = await connect(alice);
    for (let i = 1; i <= 30; i++) await send(a, channelId, `n${i}`);
    // seq 1 is the "created" system message; texts n1..n30 are seq 2..31.
    const latest = (await a.request({ t: 'history', channelId, limit: 5 })) as HistoryPageFrame;
    expect(latest.messages.map((m) => m.seq)).toEqual([27, 28, 29, 30, 31]);
    expect(latest.hasMoreBefore).toBe(true);
    expect(latest.hasMoreAfter).toBe(false);
    const before = (await a.request({ t: 'history', channelId, before: 27, limit: 3 })) as HistoryPageFrame;
    expect(before.messages.map((m) => m.seq)).toEqual([24, 25, 26]);
    const after = (await a.request({ t: 'history', channelId, after: 29, limit: 10 })) as HistoryPageFrame;
    expect(after.messages.map((m) => m.seq)).toEqual([30, 31]);
    expect(after.hasMoreAfter).toBe(false);
    const around = (await a.request({ t: 'history', channelId, around: 15, limit: 5 })) as HistoryPageFrame;
    expect(around.messages.map((m) => m.seq)).toContain(15);
    expect(around.messages).toHaveLength(5);
    expect(around.hasMoreBefore && around.hasMoreAfter).toBe(true);
    const http = await api<{ messages: Message[] }>(
      ts.url,
      alice,
      'GET',
      `/v1/channels/${channelId}/messages?before=5&limit=10`,
    );
    expect(http.body.messages.map((m) => m.seq)).toEqual([1, 2, 3, 4]);
  });
});
