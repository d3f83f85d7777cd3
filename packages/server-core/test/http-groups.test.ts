import { ErrorCode } from '@natter/protocol';
import { beforeEach, describe, expect, it } from 'vitest';
import { createHarness, type Harness } from './http-harness.js';

describe('HTTP groups', () => {
  let h: Harness;
  let ann: string;
  let annToken: string;
  let bobToken: string;

  beforeEach(async () => {
    h = await createHarness();
    ann = await h.addUser('u_ann');
    await h.addUser('u_bob');
    await h.addUser('u_cat');
    annToken = await h.tokenFor('u_ann');
    bobToken = await h.tokenFor('u_bob');
  });

  const createGroup = async (memberIds: string[], token = annToken) =>
    h.call('POST', '/v1/groups', { token, body: { name: 'Team', memberIds } });

  it('creates a group with the caller as first member (201)', async () => {
    const res = await createGroup(['u_bob']);
    expect(res.status).toBe(201);
    expect(res.body.channel).toMatchObject({
      kind: 'group',
      name: 'Team',
      createdBy: ann,
      memberIds: ['u_ann', 'u_bob'],
    });
  });

  it('renames, adds, removes and leaves', async () => {
    const id = (await createGroup(['u_bob'])).body.channel.id;
    const renamed = await h.call('PATCH', `/v1/groups/${id}`, { token: bobToken, body: { name: 'Renamed' } });
    expect(renamed.status).toBe(200);
    expect(renamed.body.channel.name).toBe('Renamed');

    const added = await h.call('POST', `/v1/groups/${id}/members`, {
      token: bobToken,
      body: { userIds: ['u_cat'] },
    });
    expect(added.body.channel.memberIds.sort()).toEqual(['u_ann', 'u_bob', 'u_cat']);

    // Only admins remove others.
    const notAdmin = await h.call('DELETE', `/v1/groups/${id}/members/u_cat`, { token: bobToken });
    expect(notAdmin.status).toBe(403);
    expect(notAdmin.body.error.code).toBe(ErrorCode.FORBIDDEN);

    expect((await h.call('DELETE', `/v1/groups/${id}/members/u_cat`, { token: annToken })).status).toBe(204);
    expect((await h.call('POST', `/v1/groups/${id}/leave`, { token: bobToken })).status).toBe(204);
    const after = await h.call('GET', `/v1/channels/${id}`, { token: annToken });
    expect(after.body.channel.memberIds).toEqual(['u_ann']);
  });

  it('refuses the 101st member with 409 NATTER_GROUP_FULL, at creation and when adding', async () => {
    const others: string[] = [];
    for (let i = 0; i < 100; i++) others.push(await h.addUser(`u_m${i}`));
    const tooBig = await createGroup(others);
    expect(tooBig.status).toBe(409);
    expect(tooBig.body.error.code).toBe(ErrorCode.GROUP_FULL);

    const full = await createGroup(others.slice(0, 99));
    expect(full.status).toBe(201);
    expect(full.body.channel.memberIds).toHaveLength(100);
    const add = await h.call('POST', `/v1/groups/${full.body.channel.id}/members`, {
      token: annToken,
      body: { userIds: [others[99]] },
    });
    expect(add.status).toBe(409);
    expect(add.body.error.code).toBe(ErrorCode.GROUP_FULL);
  });

  it('validates names and member lists', async () => {
    const cases = [
      { name: '', memberIds: [] },
      { name: 'x'.repeat(101), memberIds: [] },
      { name: 'ok', memberIds: 'u_bob' },
      { name: 'ok', memberIds: ['bad id'] },
      { name: 'ok', memberIds: Array.from({ length: 201 }, (_, i) => `u_${i}`) },
    ];
    for (const body of cases) {
      const res = await h.call('POST', '/v1/groups', { token: annToken, body });
      expect(res.status, JSON.stringify(body).slice(0, 60)).toBe(400);
      expect(res.body.error.code).toBe(ErrorCode.BAD_REQUEST);
    }
    const emptyAdd = await h.call('POST', '/v1/groups/g_x/members', {
      token: annToken,
      body: { userIds: [] },
    });
    expect(emptyAdd.status).toBe(400);
  });

  it('answers 404 when a member to add does not exist', async () => {
    const id = (await createGroup([])).body.channel.id;
    const res = await h.call('POST', `/v1/groups/${id}/members`, {
      token: annToken,
      body: { userIds: ['u_ghost'] },
    });
    expect(res.status).toBe(404);
  });

  it('refuses group operations on a direct channel with 403', async () => {
    const direct = await h.call('POST', '/v1/channels/direct', {
      token: annToken,
      body: { userId: 'u_bob' },
    });
    const res = await h.call('PATCH', `/v1/groups/${direct.body.channel.id}`, {
      token: annToken,
      body: { name: 'x' },
    });
    expect(res.status).toBe(403);
  });
});

describe('HTTP as a stranger: non-members get the same 404 as for a channel that does not exist', () => {
  let h: Harness;
  let groupId: string;
  let directId: string;
  let strangerToken: string;
  let removedToken: string;

  beforeEach(async () => {
    h = await createHarness();
    for (const id of ['u_ann', 'u_bob', 'u_eve', 'u_rem']) await h.addUser(id);
    const annToken = await h.tokenFor('u_ann');
    strangerToken = await h.tokenFor('u_eve');
    removedToken = await h.tokenFor('u_rem');
    groupId = (
      await h.call('POST', '/v1/groups', {
        token: annToken,
        body: { name: 'Secret', memberIds: ['u_bob', 'u_rem'] },
      })
    ).body.channel.id;
    directId = (await h.call('POST', '/v1/channels/direct', { token: annToken, body: { userId: 'u_bob' } }))
      .body.channel.id;
    await h.call('DELETE', `/v1/groups/${groupId}/members/u_rem`, { token: annToken });
  });

  const probes = (channelId: string) =>
    [
      ['GET', `/v1/channels/${channelId}`, undefined],
      ['GET', `/v1/channels/${channelId}/messages`, undefined],
      ['GET', `/v1/channels/${channelId}/messages?before=2&limit=5`, undefined],
      ['PATCH', `/v1/groups/${channelId}`, { name: 'Mine now' }],
      ['POST', `/v1/groups/${channelId}/members`, { userIds: ['u_eve'] }],
      ['DELETE', `/v1/groups/${channelId}/members/u_bob`, undefined],
      ['POST', `/v1/groups/${channelId}/leave`, undefined],
    ] as const;

  for (const who of ['stranger', 'removed member'] as const) {
    it(`answers a ${who} exactly as for a non-existent channel`, async () => {
      const token = who === 'stranger' ? strangerToken : removedToken;
      for (const [i, [method, path, body]] of probes(groupId).entries()) {
        const real = await h.call(method, path, { token, body });
        const [, ghostPath] = probes('g_doesnotexist')[i]!;
        const ghost = await h.call(method, ghostPath, { token, body });
        expect(real.status, `${method} ${path}`).toBe(404);
        expect(real.body, `${method} ${path}`).toEqual({
          error: { code: ErrorCode.NOT_FOUND, message: 'channel not found' },
        });
        expect(real.body).toEqual(ghost.body);
      }
    });
  }

  it('hides direct channels from third parties too', async () => {
    for (const [method, path, body] of probes(directId).slice(0, 3)) {
      const res = await h.call(method, path, { token: strangerToken, body });
      expect(res.status).toBe(404);
      expect(res.body.error.message).toBe('channel not found');
    }
  });

  it('leaves the group unchanged after the probes', async () => {
    for (const [method, path, body] of probes(groupId))
      await h.call(method, path, { token: strangerToken, body });
    const channel = (await h.call('GET', `/v1/channels/${groupId}`, { token: await h.tokenFor('u_ann') }))
      .body.channel;
    expect(channel).toMatchObject({ name: 'Secret', memberIds: ['u_ann', 'u_bob'] });
  });
});
