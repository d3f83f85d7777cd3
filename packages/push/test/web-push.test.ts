import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import webpush from 'web-push';
import { isKnownPushService, WebPushNotifier } from '../src/index.js';
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
import { browserKeys, decryptWebPush, FakePushService } from './helpers/push-service.js';

const vapid = { subject: 'mailto:ops@natter.example', ...webpush.generateVAPIDKeys() };

let service: FakePushService;
let ts: PushTestServer | undefined;
const clients: RawClient[] = [];

/** A natter server with Web Push, Bob's browser subscribed through the HTTP API, Alice connected. */
async function setup(includeContent = false) {
  ts = await startPushServer({
    webPush: { vapid, agent: service.agent, allowEndpoint: (url) => url.origin === service.origin },
    includeContent,
    collapseMs: 0,
  });
  const [alice, bob] = await Promise.all([signup(ts.url), signup(ts.url)]);
  const key = await api<{ publicKey: string }>(ts.url, undefined, 'GET', '/v1/push/vapid-key');
  expect(key).toEqual({ status: 200, body: { publicKey: vapid.publicKey } });
  const browser = service.subscribe();
  const registered = await api(ts.url, bob, 'POST', '/v1/push/subscriptions', browser.subscription);
  expect(registered.status).toBe(204);
  const channelId = await directChannel(ts.url, alice, bob);
  const sender = await RawClient.connect(ts.url, alice.accessToken);
  clients.push(sender);
  return { alice, bob, browser, channelId, sender };
}

async function waitForPushes(count: number, timeoutMs = 5_000) {
  const deadline = Date.now() + timeoutMs;
  while (service.received.length < count) {
    if (Date.now() > deadline) throw new Error(`expected ${count} pushes, got ${service.received.length}`);
    await sleep(20);
  }
  return service.received;
}

describe('Web Push', () => {
  beforeEach(async () => {
    service = await FakePushService.start();
  });

  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    await ts?.stop();
    ts = undefined;
    await service.close();
  });

  it('sends an RFC 8291 encrypted, VAPID-signed push carrying ids and counts only', async () => {
    const { channelId, sender } = await setup();
    const sent = await sendText(sender, channelId, 'the secret plan');
    const [push] = await waitForPushes(1);

    expect(push!.vapid).toMatchObject({ valid: true, publicKey: vapid.publicKey, sub: vapid.subject });
    expect(push!.headers['content-encoding']).toBe('aes128gcm');
    expect(push!.headers.ttl).toBe('86400');
    expect(push!.headers.topic).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(push!.body.includes(Buffer.from('secret'))).toBe(false);
    expect(push!.payload).toEqual({
      type: 'natter.message',
      id: expect.any(String),
      channelId,
      count: 1,
      latestSeq: sent.seq,
      latestMessageId: sent.id,
    });
  });

  it('puts the sender and text in the payload only when includeContent is set', async () => {
    const { alice, channelId, sender } = await setup(true);
    await sendText(sender, channelId, 'lunch at noon?');
    const [push] = await waitForPushes(1);
    expect(push!.payload).toMatchObject({ count: 1, latest: { senderId: alice.id, text: 'lunch at noon?' } });
  });

  it("an encrypted channel's message pushes ids and counts only, even with includeContent", async () => {
    const { alice, bob } = await setup(true);
    const opened = await api<{ channel: { id: string } }>(ts!.url, alice, 'POST', '/v1/channels/direct', {
      userId: bob.id,
      encrypted: true,
    });
    const channelId = opened.body.channel.id;
    // Hand-made MLS framing (RFC 9420 §6): the server reads only these headers.
    const group = [...Buffer.from(channelId)];
    const frame = (wire: number, epoch: number, tail: number[]) =>
      Buffer.from([
        0,
        1,
        0,
        wire,
        ...(wire === 4 ? [0, 1, 0, 1] : []),
        group.length,
        ...group,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        epoch,
        ...tail,
      ]).toString('base64');
    expect((await api(ts!.url, alice, 'PUT', '/v1/devices/me', { signaturePublicKey: 'AAAA' })).status).toBe(
      200,
    );
    const founded = await api(ts!.url, alice, 'POST', `/v1/channels/${channelId}/commits`, {
      commit: frame(2, 0, [3, 9, 9]),
      groupInfo: frame(4, 1, []),
      added: [],
      removed: [],
    });
    expect(founded.status).toBe(200);
    const sent = await api<{ message: { seq: number } }>(
      ts!.url,
      alice,
      'POST',
      `/v1/channels/${channelId}/encrypted`,
      {
        clientMsgId: 'e1',
        ciphertext: frame(2, 1, [1, 7, 7, 7]),
      },
    );
    expect(sent.status).toBe(200);
    const pushes = await waitForPushes(1);
    expect(pushes.map((p) => p.payload)).toEqual([
      expect.objectContaining({ channelId, count: 1, latestSeq: sent.body.message.seq }),
    ]);
    expect(pushes[0]!.payload).not.toHaveProperty('latest');
  });

  it('removes a subscription the push service reports gone (410) and pushes to it no more', async () => {
    const { bob, channelId, sender } = await setup();
    service.respond = () => 410;
    await sendText(sender, channelId, 'anyone?');
    await waitForPushes(1);
    await ts!.gateway.flush();
    expect(await ts!.gateway.listSubscriptions(bob.id)).toEqual([]);

    await sendText(sender, channelId, 'hello?');
    await sleep(300);
    await ts!.gateway.flush();
    expect(service.received).toHaveLength(1);
    expect(await ts!.gateway.stats()).toEqual({ pending: 0, jobs: 0 });
  });

  it('retries a push service that is briefly unavailable, and delivers once', async () => {
    const { channelId, sender } = await setup();
    // The default 1 s retry base with jitter: the second attempt comes 0.5-1 s after the first.
    let calls = 0;
    service.respond = () => (++calls === 1 ? 503 : 201);
    await sendText(sender, channelId, 'eventually');
    const pushes = await waitForPushes(2);
    await sleep(300);
    expect(pushes.map((p) => p.status)).toEqual([503, 201]);
    expect((pushes[0]!.payload as { id: string }).id).toBe((pushes[1]!.payload as { id: string }).id);
  });
});

describe('Web Push subscriptions', () => {
  const notifier = new WebPushNotifier({ vapid });
  const valid = (endpoint: string) => ({ kind: 'webpush' as const, endpoint, keys: browserKeys().keys });

  it('accepts the browsers’ push services by default and refuses other hosts (no SSRF)', () => {
    for (const ok of [
      'https://fcm.googleapis.com/fcm/send/x',
      'https://updates.push.services.mozilla.com/wpush/v2/x',
      'https://web.push.apple.com/x',
      'https://wns2-by3p.notify.windows.com/w/?token=x',
    ]) {
      expect(isKnownPushService(new URL(ok)), ok).toBe(true);
      expect(() => notifier.validate(valid(ok))).not.toThrow();
    }
    for (const bad of ['https://127.0.0.1/x', 'https://metadata.internal/x', 'http://fcm.googleapis.com/x']) {
      expect(() => notifier.validate(valid(bad)), bad).toThrow(
        expect.objectContaining({ code: 'NATTER_BAD_REQUEST' }),
      );
    }
  });

  it('refuses keys that are not a P-256 point or a 16-byte auth secret', () => {
    const endpoint = 'https://fcm.googleapis.com/fcm/send/x';
    const good = valid(endpoint).keys;
    const notOnCurve = Buffer.alloc(65, 1);
    notOnCurve[0] = 4;
    for (const keys of [
      { ...good, p256dh: notOnCurve.toString('base64url') },
      { ...good, auth: Buffer.alloc(8).toString('base64url') },
    ]) {
      expect(() => notifier.validate({ kind: 'webpush', endpoint, keys })).toThrow(
        expect.objectContaining({ code: 'NATTER_BAD_REQUEST' }),
      );
    }
  });

  it('decrypts what web-push encrypts (the test helper is a faithful RFC 8291 receiver)', () => {
    const browser = browserKeys();
    // For aes128gcm, web-push's cipherText is the whole body: header (salt, record size, sender key) + record.
    const { cipherText } = webpush.encrypt(browser.keys.p256dh, browser.keys.auth, 'hi', 'aes128gcm');
    expect(decryptWebPush(cipherText, browser.ecdh, browser.authSecret).toString()).toBe('hi');
  });
});
