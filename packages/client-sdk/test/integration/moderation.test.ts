import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../src/index.js';
import { client, startServer } from './harness.js';

describe('moderation through the SDK (real server)', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function setup() {
    const running = await startServer();
    cleanups.push(() => running.stop());
    const [alice, bob, carol] = [client(running.url), client(running.url), client(running.url)];
    cleanups.push(
      () => alice.close(),
      () => bob.close(),
      () => carol.close(),
    );
    const users = {
      alice: await alice.signup('alice', 'password-alice'),
      bob: await bob.signup('bob', 'password-bob'),
      carol: await carol.signup('carol', 'password-carol'),
    };
    await Promise.all([alice.connect(), bob.connect(), carol.connect()]);
    return { alice, bob, carol, users };
  }

  it('blocks and unblocks: a blocked sender’s 1-1 message fails with NATTER_RECIPIENT_UNAVAILABLE, later ones go through', async () => {
    const { alice, bob, users } = await setup();
    const dm = (await alice.openDirect(users.bob.id)).id;
    await bob.block(users.alice.id);
    expect((await bob.blocks()).map((b) => b.userId)).toEqual([users.alice.id]);
    await expect(alice.send(dm, 'hello?').acked).rejects.toMatchObject({
      code: ErrorCode.RECIPIENT_UNAVAILABLE,
    });
    await bob.unblock(users.alice.id);
    expect(await bob.blocks()).toEqual([]);
    expect(await alice.send(dm, 'hello again').acked).toMatchObject({ text: 'hello again' });
  });

  it('reports a message with its snapshot, and refuses a stranger with NOT_FOUND', async () => {
    const { alice, bob, carol, users } = await setup();
    const group = (await alice.createGroup('team', [users.bob.id])).id;
    const sent = await bob.send(group, 'rude words').acked;
    const report = await alice.report(
      { kind: 'message', channelId: group, seq: sent.seq },
      'harassment',
      'again',
    );
    expect(report).toMatchObject({
      userId: users.bob.id,
      reason: 'harassment',
      note: 'again',
      message: { text: 'rude words' },
    });
    await expect(
      carol.report({ kind: 'message', channelId: group, seq: sent.seq }, 'spam'),
    ).rejects.toMatchObject({
      code: ErrorCode.NOT_FOUND,
    });
    expect(await carol.report({ kind: 'user', userId: users.bob.id }, 'spam')).toMatchObject({
      userId: users.bob.id,
    });
  });

  it('bans, lists bans and unbans; sets slow mode, whose early send the outbox holds and sends when the turn comes', async () => {
    const { alice, bob, users } = await setup();
    const group = (await alice.createGroup('team', [users.bob.id, users.carol.id])).id;
    await alice.ban(group, users.carol.id);
    expect((await alice.bans(group)).map((b) => b.userId)).toEqual([users.carol.id]);
    await expect(bob.addMembers(group, [users.carol.id])).rejects.toMatchObject({
      code: ErrorCode.USER_BANNED,
    });
    await expect(bob.ban(group, users.alice.id)).rejects.toMatchObject({ code: ErrorCode.FORBIDDEN });
    await alice.unban(group, users.carol.id);
    expect(await alice.bans(group)).toEqual([]);
    expect(await alice.setSlowMode(group, 1)).toMatchObject({ slowModeSeconds: 1 });
    const first = await bob.send(group, 'one').acked;
    const started = Date.now();
    const second = await bob.send(group, 'two').acked;
    expect(second.seq).toBeGreaterThan(first.seq);
    expect(Date.now() - started).toBeGreaterThanOrEqual(500);
  });
});
