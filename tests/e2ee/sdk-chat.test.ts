import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from '../helpers/server.js';
import { device, deviceTracker, online, read, waitFor } from './sdk-helpers.js';

let server: TestServer;
const { track, closeAll } = deviceTracker();

beforeAll(async () => {
  server = await startServer();
});

afterAll(async () => {
  await closeAll();
  await server.stop();
});

describe('end-to-end encrypted channels through the SDK', () => {
  it('two users with two devices each chat in an encrypted group and an encrypted 1-1', async () => {
    const ada1 = await online(track(device(server.url)), 'ada', true);
    const ada2 = await online(track(device(server.url)), 'ada', false);
    const bob1 = await online(track(device(server.url)), 'bob', true);
    const bob2 = await online(track(device(server.url)), 'bob', false);
    const bobId = bob1.client.userId!;

    const group = await ada1.client.createGroup('secret plans', [bobId], { encrypted: true });
    expect(group.encrypted).toBe(true);
    await ada1.client.send(group.id, 'hello from ada').acked;
    for (const d of [ada2, bob1, bob2])
      await waitFor(() => read(d, group.id).includes('hello from ada'), 'the first message');
    await bob2.client.send(group.id, 'bob here, on my second phone').acked;
    for (const d of [ada1, ada2, bob1])
      await waitFor(() => read(d, group.id).includes('bob here, on my second phone'), 'the reply');
    // The sender sees its own message too (from the plaintext it kept; MLS cannot decrypt its own).
    await waitFor(() => read(bob2, group.id).includes('bob here, on my second phone'), 'the echo');

    const direct = await bob1.client.openDirect(ada1.client.userId!, { encrypted: true });
    expect(direct.encrypted).toBe(true);
    await bob1.client.send(direct.id, 'just us two').acked;
    for (const d of [ada1, ada2, bob2])
      await waitFor(() => read(d, direct.id).includes('just us two'), 'the 1-1 message');
    for (const d of [ada1, ada2, bob1, bob2]) expect(d.failures).toEqual([]);
  }, 180_000);
});

describe('devices and members of encrypted channels', () => {
  it('a new device joins by itself and reads what follows; a revoked device and a removed member read nothing after', async () => {
    const cy1 = await online(track(device(server.url)), 'cyrus', true);
    const cy2 = await online(track(device(server.url)), 'cyrus', false);
    const dee1 = await online(track(device(server.url)), 'deedee', true);
    const eve1 = await online(track(device(server.url)), 'evelyn', true);
    const group = await cy1.client.createGroup('team', [dee1.client.userId!, eve1.client.userId!], {
      encrypted: true,
    });
    await cy1.client.send(group.id, 'before the new phone').acked;
    await waitFor(() => read(dee1, group.id).includes('before the new phone'), 'the first message');

    // Dee's new phone: nobody added it; it joins by external commit when it starts.
    const dee2 = await online(track(device(server.url)), 'deedee', false);
    expect(dee2.errors).toEqual([]);
    expect((await dee2.client.e2ee()).has(group.id)).toBe(true);
    const joinedEpoch = (await dee2.client.e2ee()).mls!.epoch(group.id);
    // The sender reads the join commit first (until the server refuses stale-epoch ciphertext, docs/e2ee.md).
    const cyEngine = (await cy1.client.e2ee()).mls!;
    await waitFor(() => cyEngine.epoch(group.id) >= joinedEpoch, 'the sender to read the join');
    await cy1.client.send(group.id, 'welcome, new phone').acked;
    for (const d of [dee2, dee1, eve1, cy2])
      await waitFor(() => read(d, group.id).includes('welcome, new phone'), 'the message after the join');
    // History limit: what was sent before it joined is a typed failure on the new phone, never a silent gap.
    expect(read(dee2, group.id)).not.toContain('before the new phone');
    await waitFor(
      () => dee2.failures.some((f) => f.channelId === group.id),
      'the failure for the older message',
    );

    // Cy revokes the second device: it is removed from the group and reads nothing sent after.
    await (await cy1.client.e2ee()).revokeDevice(cy2.client.deviceId!);
    const afterRevoke = await cy1.client.send(group.id, 'cy2 must not read this').acked;
    for (const d of [dee1, dee2, eve1])
      await waitFor(
        () => read(d, group.id).includes('cy2 must not read this'),
        'the message after the revocation',
      );
    await waitFor(
      () => cy2.failures.some((f) => f.seq === afterRevoke.seq),
      'the revoked device to see an unreadable entry',
    );
    expect(read(cy2, group.id)).not.toContain('cy2 must not read this');
    expect(cy2.failures.find((f) => f.seq === afterRevoke.seq)?.reason).toBe('NATTER_E2EE_UNKNOWN_GROUP');

    // Eve is removed from the group: her device reads nothing sent after.
    await cy1.client.removeMember(group.id, eve1.client.userId!);
    await cy1.client.send(group.id, 'eve is gone').acked;
    for (const d of [dee1, dee2])
      await waitFor(() => read(d, group.id).includes('eve is gone'), 'the message after the removal');
    expect(read(eve1, group.id)).not.toContain('eve is gone');
  }, 180_000);

  it('edits, reactions and deletes travel encrypted and arrive as the usual events', async () => {
    const lee = await online(track(device(server.url)), 'leeroy', true);
    const mo = await online(track(device(server.url)), 'morgan', true);
    const direct = await lee.client.openDirect(mo.client.userId!, { encrypted: true });
    const events: string[] = [];
    mo.client.on('messageEdited', ({ message }) => events.push(`edited:${message.text}`));
    mo.client.on('reactionChanged', ({ emoji, added }) => events.push(`react:${emoji}:${added}`));
    mo.client.on('messageDeleted', ({ message }) => events.push(`deleted:${message.text}`));
    const sent = await lee.client.send(direct.id, 'teh plan').acked;
    await waitFor(() => read(mo, direct.id).includes('teh plan'), 'the message');
    await waitFor(() => read(lee, direct.id).includes('teh plan'), 'the echo');
    await lee.client.edit(direct.id, sent.seq, 'the plan');
    await mo.client.react(direct.id, sent.clientMsgId!, '👍');
    await waitFor(() => events.length === 2, 'the edit and the reaction');
    await lee.client.delete(direct.id, sent.seq);
    await waitFor(() => events.length === 3, 'the delete');
    // Mo's own reaction may come back before Lee's edit: the two are independent entries.
    expect(events.slice(0, 2).sort()).toEqual(['edited:the plan', 'react:👍:true']);
    expect(events[2]).toBe('deleted:');
    expect(
      (await mo.client.cachedMessages(direct.id)).find((m) => m.seq === sent.seq)?.deletedAt,
    ).toBeDefined();
  }, 120_000);

  it('a tampered ciphertext surfaces as decryptionFailed with its reason on every reader', async () => {
    const fay = await online(track(device(server.url)), 'fayola', true);
    const gus = await online(track(device(server.url)), 'gustav', true);
    const direct = await fay.client.openDirect(gus.client.userId!, { encrypted: true });
    await fay.client.send(direct.id, 'a real one').acked;
    await waitFor(() => read(gus, direct.id).includes('a real one'), 'the real message');

    const engine = (await fay.client.e2ee()).mls!;
    const ciphertext = await engine.encrypt(direct.id, new TextEncoder().encode('{"t":"msg","text":"x"}'));
    ciphertext[ciphertext.length - 1]! ^= 0x55;
    const { message } = await fay.client.http.call('sendEncrypted', {
      params: { id: direct.id },
      body: {
        clientMsgId: 'tampered0000000000000000001',
        ciphertext: Buffer.from(ciphertext).toString('base64'),
      },
    });
    await waitFor(() => gus.failures.some((f) => f.seq === message.seq), 'the failure event');
    expect(gus.failures.find((f) => f.seq === message.seq)).toMatchObject({
      channelId: direct.id,
      reason: 'NATTER_E2EE_DECRYPT_FAILED',
    });
  }, 120_000);
});
