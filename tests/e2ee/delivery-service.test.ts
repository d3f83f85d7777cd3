import { ErrorCode, type Message } from '@natter/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { api, signup, startServer, type TestServer } from '../helpers/server.js';
import { RawClient } from '../helpers/ws-client.js';
import { loginDevice, MlsDevice } from './mls-device.js';

/**
 * The server as MLS Delivery Service (docs/e2ee.md), end to end: real ts-mls engines on the client side,
 * the real HTTP API and a SQLite file on the server.
 */
let ts: TestServer | undefined;
afterEach(async () => {
  await ts?.stop();
  ts = undefined;
});

const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');

/** Alice and Bob with two devices each, in a new encrypted group formed by alice1's first commit. */
const API_KEY = 'e2ee-test-backend-key-0123456789abcdef';

async function twoByTwo() {
  ts = await startServer({
    serverApi: { keys: [{ name: 'backend', key: API_KEY, scopes: ['messages:write'] }] },
  });
  const url = ts.url;
  const [alice, bob] = await Promise.all([signup(url), signup(url)]);
  const [alice2, bob2] = await Promise.all([loginDevice(url, alice), loginDevice(url, bob)]);
  const [a1, a2, b1, b2] = await Promise.all(
    [alice, alice2, bob, bob2].map((session) => MlsDevice.create(url, session)),
  );
  const created = await api<{ channel: { id: string; encrypted?: boolean; mlsEpoch?: number } }>(
    url,
    alice,
    'POST',
    '/v1/groups',
    { name: 'secret club', memberIds: [bob.id], encrypted: true },
  );
  expect(created.status).toBe(201);
  expect(created.body.channel).toMatchObject({ encrypted: true, mlsEpoch: 0 });
  const channelId = created.body.channel.id;
  await a1!.engine.createGroup(channelId);
  await a1!.add(channelId, [a2!.ref, b1!.ref, b2!.ref]);
  for (const d of [a2!, b1!, b2!]) expect(await d.acceptWelcomes()).toEqual([channelId]);
  return { url, alice, bob, a1: a1!, a2: a2!, b1: b1!, b2: b2!, channelId };
}

describe('E2EE Delivery Service: groups through the server', () => {
  it('two users with two devices each form a group and read each other; the channel shows its epoch', async () => {
    const { a1, a2, b1, b2, channelId } = await twoByTwo();
    expect((await a1.send(channelId, 'hello from a1')).status).toBe(200);
    expect((await b2.send(channelId, 'hi from b2')).status).toBe(200);
    for (const d of [a1, a2, b1, b2]) await d.catchUp(channelId);
    expect(a2.received.get(channelId)).toEqual(['hello from a1', 'hi from b2']);
    expect(b1.received.get(channelId)).toEqual(['hello from a1', 'hi from b2']);
    expect(a1.received.get(channelId)).toEqual(['hi from b2']);
    expect(b2.received.get(channelId)).toEqual(['hello from a1']);
    for (const d of [a1, a2, b1, b2]) expect(d.failures.get(channelId)).toBeUndefined();
    const channel = await a1.call<{ channel: { mlsEpoch: number } }>('GET', `/v1/channels/${channelId}`);
    expect(channel.body.channel.mlsEpoch).toBe(1);
    // The queue was acknowledged: nothing left for the welcomed devices.
    expect((await b1.call<{ welcomes: unknown[] }>('GET', '/v1/devices/me/queue')).body.welcomes).toEqual([]);
  });

  it('a revoked device is removed by a commit and cannot read what is sent after it', async () => {
    const { a1, a2, b1, b2, channelId } = await twoByTwo();
    expect((await b2.call('DELETE', `/v1/devices/${b2.session.deviceId}`)).status).toBe(204);
    const listed = await a1.call<{ devices: Array<{ deviceId: string }> }>(
      'GET',
      `/v1/users/${b1.session.id}/devices`,
    );
    expect(listed.body.devices.map((d) => d.deviceId)).toEqual([b1.session.deviceId]);
    await a2.catchUp(channelId);
    const removal = await a2.engine.removeDevices(channelId, [b2.ref]);
    await a2.settle(channelId, await a2.submit(channelId, removal, [b2.ref]));
    expect((await a1.send(channelId, 'after the removal')).status).toBe(200);
    for (const d of [a2, b1, b2]) await d.catchUp(channelId);
    expect(b1.received.get(channelId)).toEqual(['after the removal']);
    expect(b2.received.get(channelId) ?? []).not.toContain('after the removal');
    expect(b2.failures.get(channelId)?.length ?? 0).toBeGreaterThan(0);
    // The removed device can no longer post into the channel.
    const refused = await b2.call<{ error: { code: string } }>(
      'POST',
      `/v1/channels/${channelId}/encrypted`,
      {
        clientMsgId: 'late',
        ciphertext: b64(await a1.engine.encrypt(channelId, new TextEncoder().encode('x'))),
      },
    );
    expect(refused.status).toBe(403);
  });

  it('a new device joins by Welcome and another by external commit; both read what follows', async () => {
    const { url, alice, bob, a1, a2, b1, channelId } = await twoByTwo();
    const a3 = await MlsDevice.create(url, await loginDevice(url, alice));
    const b3 = await MlsDevice.create(url, await loginDevice(url, bob));
    await a1.catchUp(channelId);
    await a1.add(channelId, [a3.ref]);
    expect(await a3.acceptWelcomes()).toEqual([channelId]);
    for (const d of [a2, b1]) await d.catchUp(channelId);
    await b3.joinExternally(channelId);
    for (const d of [a1, a2, a3, b1]) await d.catchUp(channelId);
    expect((await a3.send(channelId, 'new phone, who dis')).status).toBe(200);
    for (const d of [a1, a2, b1, b3]) await d.catchUp(channelId);
    for (const d of [a1, a2, b1, b3]) expect(d.received.get(channelId)).toEqual(['new phone, who dis']);
    for (const d of [a1, a2, a3, b1, b3]) expect(d.failures.get(channelId)).toBeUndefined();
    expect(a1.engine.members(channelId)).toHaveLength(6);
  });

  it('two commits for one epoch: exactly one is accepted, the loser gets STALE_EPOCH and retries after the winner', async () => {
    const { a1, b1, a2, b2, channelId } = await twoByTwo();
    for (const d of [a1, b1]) await d.catchUp(channelId);
    const [p1, p2] = [await a1.engine.update(channelId), await b1.engine.update(channelId)];
    const answers = await Promise.all([a1.submit(channelId, p1), b1.submit(channelId, p2)]);
    expect(answers.map((a) => a.status).sort()).toEqual([200, 409]);
    const [winner, loser] = answers[0]!.status === 200 ? [a1, b1] : [b1, a1];
    const lost = answers.find((a) => a.status === 409)!;
    expect(lost.body.error?.code).toBe(ErrorCode.E2EE_STALE_EPOCH);
    await winner.settle(channelId, answers.find((a) => a.status === 200)!);
    await loser.engine.discardCommit(channelId);
    await loser.catchUp(channelId);
    await loser.settle(channelId, await loser.submit(channelId, await loser.engine.update(channelId)));
    for (const d of [a1, a2, b1, b2]) await d.catchUp(channelId);
    expect((await a2.send(channelId, 'still one group')).status).toBe(200);
    for (const d of [a1, b1, b2]) await d.catchUp(channelId);
    for (const d of [a1, b1, b2]) expect(d.received.get(channelId)).toEqual(['still one group']);
    const channel = await a1.call<{ channel: { mlsEpoch: number } }>('GET', `/v1/channels/${channelId}`);
    expect(channel.body.channel.mlsEpoch).toBe(3);
  });

  it('an identical retry answers the original entry; a different commit for a past epoch writes nothing', async () => {
    const { a1, b1, channelId } = await twoByTwo();
    const pending = await a1.engine.update(channelId);
    const first = await a1.submit(channelId, pending);
    const again = await a1.submit(channelId, pending);
    expect(first.status).toBe(200);
    expect(again.status).toBe(200);
    expect(again.body.message.seq).toBe(first.body.message.seq);
    await a1.settle(channelId, first);
    // b1 has not processed the winner: its own commit for the old epoch is stale.
    const stale = await b1.submit(channelId, await b1.engine.update(channelId));
    expect(stale.status).toBe(409);
    const page = await a1.call<{ messages: Message[] }>('GET', `/v1/channels/${channelId}/messages?after=0`);
    const commits = page.body.messages.filter((m) => m.system?.action === 'mls_commit');
    expect(commits).toHaveLength(2);
  });

  it('a replayed Welcome is refused by the engine and the queue holds it only until acknowledged', async () => {
    const { url, alice, a1, channelId } = await twoByTwo();
    const a3 = await MlsDevice.create(url, await loginDevice(url, alice));
    await a1.add(channelId, [a3.ref]);
    const queue = await a3.call<{ welcomes: Array<{ id: string; welcome: string }> }>(
      'GET',
      '/v1/devices/me/queue',
    );
    expect(queue.body.welcomes).toHaveLength(1);
    const welcome = new Uint8Array(Buffer.from(queue.body.welcomes[0]!.welcome, 'base64'));
    await a3.engine.joinFromWelcome(welcome);
    await expect(a3.engine.joinFromWelcome(welcome)).rejects.toMatchObject({
      code: expect.stringMatching(/^NATTER_E2EE_(GROUP_EXISTS|WELCOME_REJECTED)$/),
    });
    expect((await a3.call('DELETE', `/v1/devices/me/queue/${queue.body.welcomes[0]!.id}`)).status).toBe(204);
    expect((await a3.call('DELETE', `/v1/devices/me/queue/${queue.body.welcomes[0]!.id}`)).status).toBe(204);
    expect((await a3.call<{ welcomes: unknown[] }>('GET', '/v1/devices/me/queue')).body.welcomes).toEqual([]);
  });

  it('a KeyPackage claimed twice at once goes to one claim; the other gets the last-resort one', async () => {
    ts = await startServer();
    const url = ts.url;
    const [alice, bob, cat] = await Promise.all([signup(url), signup(url), signup(url)]);
    const [a, c] = await Promise.all([MlsDevice.create(url, alice), MlsDevice.create(url, cat)]);
    const b = await MlsDevice.create(url, bob, 1);
    const group = await api<{ channel: { id: string } }>(url, alice, 'POST', '/v1/groups', {
      name: 'g',
      memberIds: [bob.id, cat.id],
      encrypted: true,
    });
    const channelId = group.body.channel.id;
    const claims = await Promise.all([a.claim(channelId, [b.ref]), c.claim(channelId, [b.ref])]);
    expect(claims.map((x) => x.status)).toEqual([200, 200]);
    const got = claims.map((x) => x.body.keyPackages[0]!);
    expect(got.map((k) => k.lastResort).sort()).toEqual([false, true]);
    expect(got[0]!.keyPackage).not.toBe(got[1]!.keyPackage);
    const stock = await b.call<{ remaining: number; low: boolean }>('GET', '/v1/devices/me/key-packages');
    expect(stock.body).toMatchObject({ remaining: 0, low: true, hasLastResort: true });
  });

  it('refuses a ciphertext of another group, plaintext to an encrypted channel, and strangers', async () => {
    const { url, a1, channelId } = await twoByTwo();
    const other = await api<{ channel: { id: string } }>(url, a1.session, 'POST', '/v1/groups', {
      name: 'other',
      memberIds: [],
      encrypted: true,
    });
    const otherId = other.body.channel.id;
    await a1.engine.createGroup(otherId);
    const ciphertext = b64(await a1.engine.encrypt(channelId, new TextEncoder().encode('wrong room')));
    const wrong = await a1.call<{ error: { code: string } }>('POST', `/v1/channels/${otherId}/encrypted`, {
      clientMsgId: 'w1',
      ciphertext,
    });
    expect(wrong.body.error.code).toBe(ErrorCode.E2EE_WRONG_GROUP);

    const ws = await RawClient.connect(url, a1.session.accessToken);
    try {
      const refused = await ws.request({ t: 'send', channelId, clientMsgId: 'p1', text: 'plain secret' });
      expect(refused).toMatchObject({ t: 'error', code: ErrorCode.E2EE_CHANNEL_MISMATCH });
    } finally {
      ws.close();
    }
    const garbage = await a1.call<{ error: { code: string } }>(
      'POST',
      `/v1/channels/${channelId}/encrypted`,
      {
        clientMsgId: 'g1',
        ciphertext: 'AAAA',
      },
    );
    expect(garbage.status).toBe(400);

    // Nor may the app's backend post plaintext into it.
    const posted = await fetch(`${url}/v1/server/channels/${channelId}/messages`, {
      method: 'POST',
      headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ text: 'from the backend' }),
    });
    expect(posted.status).toBe(400);
    expect(((await posted.json()) as { error: { code: string } }).error.code).toBe(
      ErrorCode.E2EE_CHANNEL_MISMATCH,
    );

    const stranger = await MlsDevice.create(url, await signup(url));
    expect((await stranger.call('GET', `/v1/channels/${channelId}/group-info`)).status).toBe(404);
    expect((await stranger.call('GET', `/v1/users/${a1.session.id}/devices`)).status).toBe(404);
    expect((await stranger.claim(channelId, [a1.ref])).status).toBe(404);
    const commit = await stranger.call('POST', `/v1/channels/${channelId}/commits`, {
      commit: ciphertext,
      groupInfo: ciphertext,
      added: [],
      removed: [],
    });
    expect(commit.status).toBe(400);
  });
});
