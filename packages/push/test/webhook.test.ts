import { afterEach, describe, expect, it } from 'vitest';
import { SIGNATURE_HEADER, WebhookNotifier } from '../src/index.js';
import {
  api,
  directChannel,
  type PushTestServer,
  RawClient,
  sendText,
  signup,
  sleep,
  startPushServer,
} from './helpers/natter.js';
import { WebhookReceiver } from './helpers/webhook-receiver.js';

let receiver: WebhookReceiver;
let ts: PushTestServer | undefined;
const clients: RawClient[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await ts?.stop();
  ts = undefined;
  await receiver?.close();
});

async function setup(webhook: { timeoutMs?: number; maxAttempts?: number } = {}, retryBaseMs = 100) {
  receiver = await WebhookReceiver.start();
  ts = await startPushServer({
    webhook: { url: receiver.url, secret: receiver.secret, ...webhook },
    retryBaseMs,
    collapseMs: 0,
  });
  const [alice, bob] = await Promise.all([signup(ts.url), signup(ts.url)]);
  const registered = await api(ts.url, bob, 'POST', '/v1/push/subscriptions', {
    kind: 'webhook',
    token: 'apns-token-1',
    platform: 'ios',
  });
  expect(registered.status).toBe(204);
  const channelId = await directChannel(ts.url, alice, bob);
  const sender = await RawClient.connect(ts.url, alice.accessToken);
  clients.push(sender);
  return { alice, bob, channelId, sender };
}

async function waitFor(predicate: () => boolean | Promise<boolean>, what: string, timeoutMs = 5_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

const gaveUp = async () =>
  (await ts!.server.metrics.errors.get()).values.find((v) => v.labels.code === 'push_gave_up')?.value ?? 0;

describe('webhook notifier', () => {
  it('POSTs a JSON body signed with HMAC-SHA256 that the app verifies', async () => {
    const { bob, channelId, sender } = await setup();
    const sent = await sendText(sender, channelId, 'not in the body');
    await waitFor(() => receiver.received.length === 1, 'the webhook');
    const [hook] = receiver.received;
    expect(hook!.signature).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
    expect(hook!.verified).toBe(true);
    expect(hook!.body).toEqual({
      id: expect.any(String),
      userId: bob.id,
      deviceId: bob.deviceId,
      token: 'apns-token-1',
      platform: 'ios',
      notification: {
        type: 'natter.message',
        id: hook!.body.id,
        channelId,
        count: 1,
        latestSeq: sent.seq,
        latestMessageId: sent.id,
      },
    });
    expect(hook!.raw).not.toContain('not in the body');
  });

  it('retries failures with exponential backoff, then delivers once', async () => {
    const { channelId, sender } = await setup();
    receiver.respond = (_body, attempt) => (attempt <= 2 ? 503 : 200);
    await sendText(sender, channelId, 'persist');
    await waitFor(() => receiver.accepted.length === 1, 'delivery');
    await sleep(400);
    expect(receiver.received.map((r) => r.status)).toEqual([503, 503, 200]);
    const [a, b, c] = receiver.received.map((r) => r.at) as [number, number, number];
    // retryBaseMs 100: the first retry waits 50-100 ms, the second 100-200 ms.
    expect(b - a).toBeGreaterThanOrEqual(45);
    expect(c - b).toBeGreaterThanOrEqual(95);
    expect(new Set(receiver.received.map((r) => r.body.id)).size).toBe(1);
    expect(receiver.received.every((r) => r.verified)).toBe(true);
  });

  it('retries a webhook that does not answer within timeoutMs', async () => {
    const { channelId, sender } = await setup({ timeoutMs: 200 });
    receiver.respond = (_body, attempt) => (attempt === 1 ? 'hang' : 200);
    await sendText(sender, channelId, 'slow');
    await waitFor(() => receiver.accepted.length === 1, 'delivery after a timeout');
    expect(receiver.received.map((r) => r.status)).toEqual([0, 200]);
  });

  it('gives up cleanly after maxAttempts, counting push_gave_up', async () => {
    const { channelId, sender } = await setup({ maxAttempts: 3 }, 50);
    receiver.respond = () => 500;
    await sendText(sender, channelId, 'doomed');
    await waitFor(() => receiver.received.length === 3, 'three attempts');
    await waitFor(async () => (await ts!.gateway.stats()).jobs === 0, 'the job to finish');
    expect(await gaveUp()).toBe(1);
    await sleep(500);
    await ts!.gateway.flush();
    expect(receiver.received).toHaveLength(3);
  });

  it('does not retry a permanent refusal (400)', async () => {
    const { channelId, sender } = await setup();
    receiver.respond = () => 400;
    await sendText(sender, channelId, 'bad');
    await waitFor(() => receiver.received.length === 1, 'the attempt');
    await sleep(400);
    expect(receiver.received).toHaveLength(1);
    expect((await ts!.gateway.stats()).jobs).toBe(0);
  });

  it('removes the subscription when the app answers 410 Gone, but not on 404', async () => {
    const { bob, channelId, sender } = await setup({ maxAttempts: 1 });
    receiver.respond = () => 404; // a misrouted URL must not erase every subscription
    await sendText(sender, channelId, 'first');
    await waitFor(() => receiver.received.length === 1, 'the first attempt');
    await ts!.gateway.flush();
    expect(await ts!.gateway.listSubscriptions(bob.id)).toHaveLength(1);

    receiver.respond = () => 410;
    await sendText(sender, channelId, 'second');
    await waitFor(() => receiver.received.length === 2, 'the second attempt');
    await ts!.gateway.flush();
    expect(await ts!.gateway.listSubscriptions(bob.id)).toEqual([]);
  });

  it('refuses a short secret and sends the signature header', () => {
    expect(() => new WebhookNotifier({ url: 'https://app.example/push', secret: 'short' })).toThrow(
      RangeError,
    );
    expect(SIGNATURE_HEADER).toBe('X-Natter-Signature');
  });
});
