import type {
  ErrorFrame,
  HistoryPageFrame,
  MutatedFrame,
  ServerFrame,
  SyncPageFrame,
} from '@natter/protocol';
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

async function connect(user: TestUser, device: string): Promise<RawClient> {
  const c = await RawClient.connect(ts.url, user.accessToken, { device });
  clients.push(c);
  return c;
}

async function group(owner: TestUser, members: TestUser[]): Promise<string> {
  const res = await api<{ channel: { id: string } }>(ts.url, owner, 'POST', '/v1/groups', {
    name: 'team',
    memberIds: members.map((m) => m.id),
  });
  expect(res.status).toBe(201);
  return res.body.channel.id;
}

const liveKinds = (c: RawClient) =>
  c.frames.flatMap((f) => (f.t === 'msg' ? [f.entry.kind] : [])).filter((k) => k !== 'message');

describe('message lifecycle over WebSocket', () => {
  it('edits, reactions and deletes reach every device live and through sync; a stranger learns nothing', async () => {
    const alice = await signup(ts.url);
    const bob = await signup(ts.url);
    const mallory = await signup(ts.url);
    const channelId = await group(alice, [bob]);
    const aliceLaptop = await connect(alice, 'laptop');
    const alicePhone = await connect(alice, 'phone');
    const bobPhone = await connect(bob, 'phone');
    const stranger = await connect(mallory, 'm');

    await aliceLaptop.request({ t: 'send', channelId, clientMsgId: 'k1', text: 'helo wrld' });
    const seq = 2; // after the group's creation message
    const edited = (await aliceLaptop.request({
      t: 'edit',
      clientId: 'e1',
      channelId,
      seq,
      text: 'hello world',
    })) as MutatedFrame;
    expect(edited).toMatchObject({ t: 'mutated', duplicate: false, entry: { kind: 'edited' } });
    const retry = (await aliceLaptop.request({
      t: 'edit',
      clientId: 'e1',
      channelId,
      seq,
      text: 'other',
    })) as MutatedFrame;
    expect(retry).toMatchObject({ duplicate: true, entry: edited.entry });

    const reacted = (await bobPhone.request({
      t: 'react',
      clientId: 'r1',
      channelId,
      seq,
      emoji: '👍',
      op: 'add',
    })) as MutatedFrame;
    expect(reacted.entry).toMatchObject({ kind: 'reaction', userId: bob.id, emoji: '👍', added: true });
    const reply = await bobPhone.request({
      t: 'send',
      channelId,
      clientMsgId: 'k2',
      text: 'agreed',
      replyTo: seq,
    });
    expect(reply).toMatchObject({
      t: 'ack',
      entry: { message: { replyTo: seq, replyPreview: { text: 'hello world' } } },
    });

    // The stranger gets what a missing channel gets, and keeps its connection.
    for (const frame of [
      { t: 'edit', clientId: 'x1', channelId, seq, text: 'pwned' },
      { t: 'delete', clientId: 'x2', channelId, seq },
      { t: 'react', clientId: 'x3', channelId, seq, emoji: '💀', op: 'add' },
      { t: 'edit', clientId: 'x4', channelId: 'g_missing', seq, text: 'pwned' },
    ] as const) {
      expect(((await stranger.request(frame)) as ErrorFrame).code).toBe('NATTER_NOT_FOUND');
    }
    expect(
      ((await bobPhone.request({ t: 'delete', clientId: 'd0', channelId, seq })) as ErrorFrame).code,
    ).toBe('NATTER_FORBIDDEN');
    expect(
      (
        (await bobPhone.request({
          t: 'react',
          clientId: 'r9',
          channelId,
          seq,
          emoji: 'x'.repeat(40),
          op: 'add',
        })) as ErrorFrame
      ).code,
    ).toBe('NATTER_BAD_REQUEST');
    expect((await stranger.request({ t: 'ping' })).t).toBe('pong');

    const history = (await bobPhone.request({ t: 'history', channelId })) as HistoryPageFrame;
    expect(history.messages.find((m) => m.seq === seq)).toMatchObject({
      text: 'hello world',
      version: 2,
      reactions: [{ emoji: '👍', count: 1, me: true }],
    });

    const deleted = (await aliceLaptop.request({
      t: 'delete',
      clientId: 'd1',
      channelId,
      seq,
    })) as MutatedFrame;
    expect(deleted.entry).toMatchObject({ kind: 'deleted', message: { seq, text: '', deletedBy: alice.id } });
    const gone = (await alicePhone.request({
      t: 'edit',
      clientId: 'e2',
      channelId,
      seq,
      text: 'back',
    })) as ErrorFrame;
    expect(gone.code).toBe('NATTER_MESSAGE_DELETED');

    // Live: the other devices got each change once, in order; the acting connection got its answer instead.
    await bobPhone.seen((f) => f.t === 'msg' && f.entry.kind === 'deleted');
    await alicePhone.seen((f) => f.t === 'msg' && f.entry.kind === 'deleted');
    expect(liveKinds(bobPhone)).toEqual(['edited', 'deleted']);
    expect(liveKinds(alicePhone)).toEqual(['edited', 'reaction', 'deleted']);
    expect(liveKinds(aliceLaptop)).toEqual(['reaction']);
    expect(stranger.frames.some((f: ServerFrame) => f.t === 'msg')).toBe(false);

    // Through sync, a late device reads the same entries, and no trace of the deleted text.
    const late = await connect(bob, 'tablet');
    const page = (await late.request({ t: 'sync', after: 0 })) as SyncPageFrame;
    expect(page.entries.map((e) => e.kind)).toEqual([
      'message',
      'message',
      'edited',
      'reaction',
      'message',
      'deleted',
    ]);
    expect(JSON.stringify(page)).not.toContain('hello world');
    expect(page.entries[4]).toMatchObject({ message: { replyPreview: { deleted: true, text: '' } } });
  });

  it('pages a thread and keeps thread replies out of the unread count unless they mention the reader', async () => {
    const alice = await signup(ts.url);
    const bob = await signup(ts.url);
    const channelId = await group(alice, [bob]);
    const a = await connect(alice, 'a');
    await a.request({ t: 'send', channelId, clientMsgId: 'root', text: 'topic' });
    for (let i = 0; i < 4; i++) {
      await a.request({
        t: 'send',
        channelId,
        clientMsgId: `t${i}`,
        text: `r${i}`,
        threadRoot: 2,
        ...(i === 3 ? { mentions: [bob.id] } : {}),
      });
    }
    const thread = (await a.request({
      t: 'history',
      channelId,
      threadRoot: 2,
      limit: 3,
    })) as HistoryPageFrame;
    expect(thread.messages.map((m) => m.text)).toEqual(['r1', 'r2', 'r3']);
    expect(thread.hasMoreBefore).toBe(true);
    const root = ((await a.request({ t: 'history', channelId, around: 2, limit: 1 })) as HistoryPageFrame)
      .messages[0];
    expect(root).toMatchObject({ seq: 2, threadReplies: 4 });
    const list = await api<{ channels: Array<{ id: string; unread: number }> }>(
      ts.url,
      bob,
      'GET',
      '/v1/channels',
    );
    expect(list.body.channels.find((c) => c.id === channelId)?.unread).toBe(2);
    const bad = (await a.request({
      t: 'send',
      channelId,
      clientMsgId: 'bad',
      text: 'x',
      replyTo: 99,
    })) as ErrorFrame;
    expect(bad.code).toBe('NATTER_BAD_REFERENCE');
  });

  it('a mutation retried after the server restarted is answered with the original entry and applied once', async () => {
    const alice = await signup(ts.url);
    const bob = await signup(ts.url);
    const channelId = await group(alice, [bob]);
    const a = await connect(alice, 'a');
    await a.request({ t: 'send', channelId, clientMsgId: 'k1', text: 'v1' });
    // The device sends the edit, then the server restarts before the device took note of the answer.
    a.socket.send(a.codec.encode({ t: 'edit', rid: 900, clientId: 'e1', channelId, seq: 2, text: 'v2' }));
    await a.seen((f) => 'rid' in f && f.rid === 900);
    ts = await ts.restart();
    const again = await connect(alice, 'a');
    const retry = (await again.request({
      t: 'edit',
      clientId: 'e1',
      channelId,
      seq: 2,
      text: 'v2',
    })) as MutatedFrame;
    expect(retry).toMatchObject({
      duplicate: true,
      entry: { kind: 'edited', message: { text: 'v2', version: 2 } },
    });
    const page = (await again.request({ t: 'sync', after: 0 })) as SyncPageFrame;
    expect(page.entries.filter((e) => e.kind === 'edited')).toHaveLength(1);
  });

  it('mutations share the send rate limit: past the burst they are refused and nothing is stored', async () => {
    const limited = await startServer({ limits: { sendsPerSecond: 1, sendBurst: 2 } });
    try {
      const alice = await signup(limited.url);
      const res = await api<{ channel: { id: string } }>(limited.url, alice, 'POST', '/v1/groups', {
        name: 'solo',
        memberIds: [],
      });
      const channelId = res.body.channel.id;
      const a = await RawClient.connect(limited.url, alice.accessToken, { device: 'a' });
      clients.push(a);
      expect((await a.request({ t: 'send', channelId, clientMsgId: 'k1', text: 'one' })).t).toBe('ack');
      expect(
        (await a.request({ t: 'react', clientId: 'r1', channelId, seq: 2, emoji: '👍', op: 'add' })).t,
      ).toBe('mutated');
      const refused = (await a.request({
        t: 'edit',
        clientId: 'e1',
        channelId,
        seq: 2,
        text: 'two',
      })) as ErrorFrame;
      expect(refused.code).toBe('NATTER_RATE_LIMITED');
      expect(refused.retryAfterMs).toBeGreaterThan(0);
      const page = (await a.request({ t: 'sync', after: 0 })) as SyncPageFrame;
      expect(page.entries.map((e) => e.kind)).toEqual(['message', 'message', 'reaction']);
    } finally {
      await limited.stop();
    }
  });
});
