import type { NatterServerOptions } from '@natter/server-core';
import { internalsOf } from '@natter/server-core/internals';
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryNotifier, type PushGatewayOptions, type SendOutcome } from '../src/index.js';
import {
  api,
  directChannel,
  type PushTestServer,
  RawClient,
  sendText,
  signup,
  sleep,
  startPushServer,
  type TestUser,
} from './helpers/natter.js';

let ts: PushTestServer | undefined;
const clients: RawClient[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await ts?.stop();
  ts = undefined;
});

async function connect(user: TestUser, device?: string): Promise<RawClient> {
  const c = await RawClient.connect(ts!.url, user.accessToken, device ? { device } : {});
  clients.push(c);
  return c;
}

/** Alice (connected, sending) and Bob (offline, with a webhook subscription on his signup device). */
async function setup(
  push: Omit<PushGatewayOptions, 'dataPath'> = {},
  overrides: Partial<NatterServerOptions> = {},
) {
  const memory = new MemoryNotifier('webhook');
  ts = await startPushServer({ notifiers: { webhook: memory }, ...push }, overrides);
  const [alice, bob] = await Promise.all([signup(ts.url), signup(ts.url)]);
  const registered = await api(ts.url, bob, 'POST', '/v1/push/subscriptions', {
    kind: 'webhook',
    token: 'bob-phone',
  });
  expect(registered.status).toBe(204);
  const channelId = await directChannel(ts.url, alice, bob);
  const sender = await connect(alice);
  sender.heartbeat(100);
  return { memory, alice, bob, channelId, sender };
}

describe('push gateway', () => {
  it('notifies an offline user once per collapse interval, carrying the count since the last one', async () => {
    const { memory, bob, channelId, sender } = await setup({ collapseMs: 800 });
    const first = await sendText(sender, channelId, 'one');
    const [n1] = await memory.waitForDelivered(1);
    expect(n1!.subscription).toMatchObject({
      userId: bob.id,
      subscription: { kind: 'webhook', token: 'bob-phone' },
    });
    expect(n1!.payload).toEqual({
      type: 'natter.message',
      id: expect.any(String),
      channelId,
      count: 1,
      latestSeq: first.seq,
      latestMessageId: first.id,
    });

    await sendText(sender, channelId, 'two');
    const third = await sendText(sender, channelId, 'three');
    await sleep(300);
    expect(memory.delivered).toHaveLength(1); // still inside the window
    const [, n2] = await memory.waitForDelivered(2);
    expect(n2!.payload).toMatchObject({ count: 2, latestSeq: third.seq, latestMessageId: third.id });
    expect(n2!.at - n1!.at).toBeGreaterThanOrEqual(600);
    await sleep(300);
    expect(memory.delivered).toHaveLength(2);
  });

  it('sends no push for edits and reactions (issue 24)', async () => {
    const { memory, channelId, sender } = await setup({ collapseMs: 100 });
    const first = await sendText(sender, channelId, 'one');
    await memory.waitForDelivered(1);
    await sleep(300); // past the collapse window: a new owed message would be sent now
    const edit = await sender.request({ t: 'edit', clientId: 'e1', channelId, seq: first.seq, text: 'uno' });
    expect(edit.t).toBe('mutated');
    const react = await sender.request({
      t: 'react',
      clientId: 'r1',
      channelId,
      seq: first.seq,
      emoji: '👍',
      op: 'add',
    });
    expect(react.t).toBe('mutated');
    await sleep(500);
    expect(memory.delivered).toHaveLength(1);
  });

  it('sends nothing for a message deleted while its push was collapsed, and counts only what is left (issue 24)', async () => {
    const { memory, channelId, sender } = await setup({ collapseMs: 800 });
    const del = (seq: number, clientId: string) => sender.request({ t: 'delete', clientId, channelId, seq });
    await sendText(sender, channelId, 'one');
    await memory.waitForDelivered(1); // the collapse window opens: what follows is owed at its end
    const regret = await sendText(sender, channelId, 'oops');
    expect((await del(regret.seq, 'd1')).t).toBe('mutated');
    await sendText(sender, channelId, 'two');
    const gone = await sendText(sender, channelId, 'three');
    expect((await del(gone.seq, 'd2')).t).toBe('mutated');
    const [, second] = await memory.waitForDelivered(2);
    // One message is owed; the deleted newest gave up the preview (latestSeq still bounds what to sync).
    expect(second!.payload).toMatchObject({ count: 1, latestSeq: gone.seq });
    expect(second!.payload).not.toHaveProperty('latest');

    // A window whose only message is deleted sends nothing.
    const alone = await sendText(sender, channelId, 'sorry');
    expect((await del(alone.seq, 'd3')).t).toBe('mutated');
    await sleep(1_500);
    expect(memory.delivered).toHaveLength(2);
  });

  it('with notifyReactions, tells an offline author who reacted, once per collapse window, never for their own reaction', async () => {
    const { memory, alice, bob, channelId, sender } = await setup({ collapseMs: 700, notifyReactions: true });
    // Bob (offline) wrote a message; Alice reacts to it twice within the window, then to her own message.
    const bobs = await internalsOf(ts!.server).service.sendMessage(bob.id, {
      channelId,
      clientMsgId: 'b1',
      text: 'lunch?',
    });
    const react = (seq: number, emoji: string, clientId: string) =>
      sender.request({ t: 'react', clientId, channelId, seq, emoji, op: 'add' });
    expect((await react(bobs.entry.message.seq, '👍', 'r1')).t).toBe('mutated');
    expect((await react(bobs.entry.message.seq, '🎉', 'r2')).t).toBe('mutated');
    const [reaction] = await memory.waitForDelivered(1);
    // No content by default: ids only, as for messages.
    expect(reaction!.payload).toEqual({
      type: 'natter.reaction',
      id: expect.any(String),
      channelId,
      seq: bobs.entry.message.seq,
    });
    expect(reaction!.subscription.userId).toBe(bob.id);
    // A reaction to one's own message notifies no one (Alice has a device registered too, offline).
    const registered = await api(ts!.url, alice, 'POST', '/v1/push/subscriptions', {
      kind: 'webhook',
      token: 'alice-phone',
    });
    expect(registered.status).toBe(204);
    const mine = await sendText(sender, channelId, 'mine');
    expect((await react(mine.seq, '👍', 'r3')).t).toBe('mutated');
    await sleep(1_200);
    // The second reaction fell in the window; then only Bob's notification of Alice's message.
    expect(memory.delivered.map((d) => [d.payload.type, d.subscription.userId])).toEqual([
      ['natter.reaction', bob.id],
      ['natter.message', bob.id],
    ]);
  });

  it('with notifyReactions and includeContent, the reaction notification names who reacted and the emoji', async () => {
    const { memory, alice, bob, channelId, sender } = await setup({
      collapseMs: 100,
      notifyReactions: true,
      includeContent: true,
    });
    const bobs = await internalsOf(ts!.server).service.sendMessage(bob.id, {
      channelId,
      clientMsgId: 'b1',
      text: 'lunch?',
    });
    await sender.request({
      t: 'react',
      clientId: 'r1',
      channelId,
      seq: bobs.entry.message.seq,
      emoji: '🍕',
      op: 'add',
    });
    const [reaction] = await memory.waitForDelivered(1);
    expect(reaction!.payload).toMatchObject({
      type: 'natter.reaction',
      reaction: { userId: alice.id, emoji: '🍕' },
    });
  });

  it('sends no reaction notification without notifyReactions (the default)', async () => {
    const { memory, bob, channelId, sender } = await setup({ collapseMs: 100 });
    const bobs = await internalsOf(ts!.server).service.sendMessage(bob.id, {
      channelId,
      clientMsgId: 'b1',
      text: 'lunch?',
    });
    await sender.request({
      t: 'react',
      clientId: 'r1',
      channelId,
      seq: bobs.entry.message.seq,
      emoji: '👍',
      op: 'add',
    });
    await sleep(800);
    expect(memory.delivered.map((d) => d.payload.type)).toEqual([]);
  });

  it('does not notify a user with any device online', async () => {
    // A grace period well above the heartbeat interval, so a busy test machine cannot make Bob flap.
    const { memory, bob, channelId, sender } = await setup(
      { onlineHoldMs: 1_200 },
      { presence: { graceMs: 1_000 } },
    );
    const laptop = await connect(bob, 'laptop');
    laptop.heartbeat(100);
    await connect(bob, 'phone'); // silent: goes stale, but the laptop keeps Bob online
    for (const text of ['a', 'b', 'c']) await sendText(sender, channelId, text);
    await sleep(1_800); // past onlineHoldMs: the owed notification is dropped as seen
    expect(memory.attempts).toEqual([]);
    expect(await ts!.gateway.stats()).toEqual({ pending: 0, jobs: 0 });
  });

  it('still notifies a user who closed the app just before the message, once presence lets them go', async () => {
    const { memory, bob, channelId, sender } = await setup(
      { onlineHoldMs: 2_000 },
      { presence: { graceMs: 600 } },
    );
    const phone = await connect(bob);
    phone.close();
    await phone.closed;
    // Bob still counts as online for the grace period: the notification must wait, not be dropped.
    expect(await internalsOf(ts!.server).presence.isOnline(bob.id)).toBe(true);
    await sendText(sender, channelId, 'are you there?');
    const [n] = await memory.waitForDelivered(1, 5_000);
    expect(n!.subscription.userId).toBe(bob.id);
  });

  it('does not notify a muted channel, and does again once unmuted', async () => {
    const { memory, bob, channelId, sender } = await setup({ collapseMs: 0 });
    const muted = await api(ts!.url, bob, 'PUT', `/v1/channels/${channelId}/mute`, { muted: true });
    expect(muted).toEqual({ status: 200, body: { channelId, muted: true } });
    await sendText(sender, channelId, 'shh');
    await sleep(300);
    await ts!.gateway.flush();
    expect(memory.attempts).toEqual([]);

    await api(ts!.url, bob, 'PUT', `/v1/channels/${channelId}/mute`, { muted: false });
    const loud = await sendText(sender, channelId, 'hello again');
    const [n] = await memory.waitForDelivered(1);
    expect(n!.payload).toMatchObject({ count: 1, latestSeq: loud.seq });
  });

  it('notifies neither the sender nor anyone for system messages', async () => {
    const { memory, alice, bob, sender } = await setup();
    await api(ts!.url, alice, 'POST', '/v1/push/subscriptions', { kind: 'webhook', token: 'alice-phone' });
    const group = await api<{ channel: { id: string } }>(ts!.url, alice, 'POST', '/v1/groups', {
      name: 'team',
      memberIds: [bob.id],
    });
    const sent = await sendText(sender, group.body.channel.id, 'welcome');
    const [n] = await memory.waitForDelivered(1);
    await sleep(200);
    expect(memory.attempts).toHaveLength(1);
    expect(n!.subscription.userId).toBe(bob.id);
    expect(n!.payload).toMatchObject({ channelId: group.body.channel.id, count: 1, latestSeq: sent.seq });
  });

  it('drops an owed notification once the user has read the channel on another device', async () => {
    const { memory, bob, channelId, sender } = await setup({ workerIntervalMs: 60_000 });
    await ts!.gateway.flush(); // let the pass that start() kicked off finish
    const sent = await sendText(sender, channelId, 'read me elsewhere');
    expect((await ts!.gateway.stats()).pending).toBe(1);
    const read = await api(ts!.url, bob, 'POST', `/v1/channels/${channelId}/read`, { seq: sent.seq });
    expect(read.status).toBe(200);
    await ts!.gateway.flush();
    expect(memory.attempts).toEqual([]);
    expect(await ts!.gateway.stats()).toEqual({ pending: 0, jobs: 0 });
  });

  it('sends one notification per registered device, and none to a device removed at logout', async () => {
    const { memory, bob, channelId, sender } = await setup({ collapseMs: 0 });
    const tablet = await api<{ accessToken: string; deviceId: string }>(
      ts!.url,
      undefined,
      'POST',
      '/v1/auth/login',
      {
        username: bob.username,
        password: 'correct horse battery',
        deviceId: 'tablet',
      },
    );
    const bobTablet = { ...bob, accessToken: tablet.body.accessToken, deviceId: 'tablet' };
    await api(ts!.url, bobTablet, 'POST', '/v1/push/subscriptions', { kind: 'webhook', token: 'bob-tablet' });
    expect((await ts!.gateway.listSubscriptions(bob.id)).map((s) => s.deviceId).sort()).toEqual(
      [bob.deviceId, 'tablet'].sort(),
    );

    await sendText(sender, channelId, 'to both');
    const both = await memory.waitForDelivered(2);
    expect(new Set(both.map((d) => d.payload.id)).size).toBe(1); // one notification, two devices

    expect((await api(ts!.url, bobTablet, 'POST', '/v1/auth/logout', {})).status).toBe(204);
    expect((await ts!.gateway.listSubscriptions(bob.id)).map((s) => s.deviceId)).toEqual([bob.deviceId]);
    await sendText(sender, channelId, 'phone only');
    const [, , third] = await memory.waitForDelivered(3);
    await sleep(200);
    expect(memory.delivered).toHaveLength(3);
    expect(third!.subscription.deviceId).toBe(bob.deviceId);
  });

  it('keeps one registration per token: the newest device or user to register it wins', async () => {
    const { alice, bob } = await setup();
    await api(ts!.url, alice, 'POST', '/v1/push/subscriptions', { kind: 'webhook', token: 'bob-phone' });
    expect(await ts!.gateway.listSubscriptions(bob.id)).toEqual([]);
    expect((await ts!.gateway.listSubscriptions(alice.id)).map((s) => s.subscription)).toEqual([
      { kind: 'webhook', token: 'bob-phone' },
    ]);
  });

  it('refuses Web Push subscriptions and answers 404 for the VAPID key when Web Push is not configured', async () => {
    const { bob } = await setup();
    const key = await api<{ error: { code: string } }>(ts!.url, undefined, 'GET', '/v1/push/vapid-key');
    expect(key.status).toBe(404);
    const refused = await api<{ error: { code: string } }>(ts!.url, bob, 'POST', '/v1/push/subscriptions', {
      kind: 'webpush',
      endpoint: 'https://fcm.googleapis.com/fcm/send/abc',
      keys: { p256dh: 'B'.repeat(87), auth: 'A'.repeat(22) },
    });
    expect(refused.status).toBe(400);
    expect(refused.body.error.code).toBe('NATTER_BAD_REQUEST');
  });

  it('never delays message delivery, even while the notifier hangs', async () => {
    let release!: () => void;
    const released = new Promise<SendOutcome>((resolve) => {
      release = () => resolve('ok');
    });
    const { memory, channelId, sender } = await setup({ collapseMs: 0 });
    memory.respond = () => released;
    await sendText(sender, channelId, 'first');
    await sleep(400); // the worker is now stuck in a send
    const started = Date.now();
    for (let i = 0; i < 5; i++) await sendText(sender, channelId, `m${i}`);
    expect(Date.now() - started).toBeLessThan(3_000); // blocked acks would never come before release()
    release();
    await memory.waitForDelivered(1);
  });

  it('never throws from onDeliveries, even when stopped', async () => {
    const { channelId, sender } = await setup();
    await ts!.gateway.stop();
    await sendText(sender, channelId, 'after stop'); // committed and acked although push is down
    const errors = await ts!.server.metrics.errors.get();
    expect(errors.values.find((v) => v.labels.code === 'push_not_running')?.value).toBe(1);
  });
});
