import type { MessageEntry } from '@natter/protocol';
import { afterAll, describe, expect, it } from 'vitest';
import { killableServer, lockKillableServer } from '../helpers/pg-server.js';
import type { TestUser } from '../helpers/server.js';
import { type Cluster, createGroup, openDirect, startCluster, token, users } from './helpers/cluster.js';
import { Device, direct } from './helpers/device.js';
import { PG_KILLABLE_URL, PG_SHARD_URLS, servicesUp } from './helpers/env.js';
import { channelsOn, defaultShardMap } from './helpers/shards.js';
import { shardedClusterSuite } from './helpers/suite.js';
import { outcomeOf, perfect } from './helpers/verify.js';

/**
 * kill -9 of one PostgreSQL server of the sharded store, mid-stream, and its restart. Three shards: two of
 * the shared shard servers (5433, 5434; a schema of this file's own) and the server reserved for kill -9
 * (5436), which only this file kills (machine-wide lock), so no other suite loses its database.
 */
const up = await servicesUp('kill -9 of a shard server', ['pgShards', 'pgKillable', 'redis']);
const SHARDS = [PG_SHARD_URLS[0]!, PG_SHARD_URLS[1]!, PG_KILLABLE_URL];
const store = up ? await shardedClusterSuite('shard-kill', SHARDS) : undefined;
const releaseKillable = store ? await lockKillableServer() : undefined;

const MESSAGES_PER_SENDER = 30;
/**
 * Senders go on past their 30 until the killed server is back (bounded): on a loaded machine the kill
 * itself can take seconds, and streams that ended meanwhile left nothing to send while it was down.
 */
const MAX_PER_SENDER = 400;
/** Channels wanted on the killed server and on the others (created until both are reached, bounded). */
const WANTED_EACH_SIDE = 3;

describe.skipIf(!store)('kill -9 of a PostgreSQL shard server mid-stream (sharded store, 3 servers)', () => {
  let cluster: Cluster | undefined;
  const devices: Device[] = [];
  afterAll(async () => {
    await Promise.allSettled(devices.map((d) => d.stop()));
    await cluster?.stop();
    // A failed run must not leave the server down for the next one.
    await (await killableServer(PG_KILLABLE_URL)).ensureUp().catch(() => undefined);
    await releaseKillable?.();
  }, 90_000);

  it('sends to its channels get NATTER_UNAVAILABLE with retry-after, the others go on; after the restart 0 lost, 0 duplicated, order kept', async () => {
    const t0 = Date.now();
    const phase = (what: string) => console.info(`[shard-kill] +${Date.now() - t0} ms ${what}`);
    const server = await killableServer(PG_KILLABLE_URL);
    await server.ensureUp();
    cluster = await startCluster({ broker: 'redis', nodes: 2, store: store! });
    const [n0, n1] = cluster.nodes as [Cluster['nodes'][0], Cluster['nodes'][0]];
    const schema = (store!.spec as { schema: string }).schema;

    // Where ids live, by the store's own shard map (the default: 256 virtual shards, v mod 3 servers).
    const map = await defaultShardMap(SHARDS.length);
    const KILLED = SHARDS.indexOf(PG_KILLABLE_URL);
    const onKilledServer = (id: string) => map.serverOf(id) === KILLED;

    // Pairs of users with a direct channel each, until enough channels live on the killed server and
    // enough elsewhere with a sender whose own log is elsewhere too (placement is by hash; bounded).
    const pairs: Array<{ a: TestUser; b: TestUser; channel: string }> = [];
    const deadSide = () => pairs.filter((p) => onKilledServer(p.channel));
    const liveSide = () => pairs.filter((p) => !onKilledServer(p.channel) && !onKilledServer(p.a.id));
    for (let round = 0; round < 40; round++) {
      if (deadSide().length >= WANTED_EACH_SIDE && liveSide().length >= WANTED_EACH_SIDE) break;
      const [a, b] = (await users(n0.url, 2, `sk${round}`)) as [TestUser, TestUser];
      pairs.push({ a, b, channel: await openDirect(n0.url, a, b) });
    }
    expect(deadSide().length, 'channels on the killed server').toBeGreaterThanOrEqual(WANTED_EACH_SIDE);
    expect(liveSide().length, 'channels and senders elsewhere').toBeGreaterThanOrEqual(WANTED_EACH_SIDE);
    // The channel table on the killed server holds exactly the channels the map puts there.
    const stored = await channelsOn(PG_KILLABLE_URL, schema);
    for (const p of pairs) expect(stored.has(p.channel), p.channel).toBe(onKilledServer(p.channel));
    // And one group across everyone (wherever it lands).
    const everyone = pairs.flatMap((p) => [p.a, p.b]);
    const group = await createGroup(n0.url, everyone[0]!, everyone.slice(1));
    const liveChannels = liveSide().map((p) => p.channel);
    phase(
      `${pairs.length} pairs; ${deadSide().length} channels on the killed server, ${liveChannels.length} with their sender elsewhere; the group ${onKilledServer(group) ? 'on' : 'off'} it`,
    );

    // One device per user, the two of a pair on different nodes; a's send into the pair's channel, b's
    // into the group.
    const deviceOf = new Map<string, Device>();
    for (const [i, p] of pairs.entries()) {
      for (const [j, user] of [p.a, p.b].entries()) {
        const d = new Device(
          `p${i}${j ? 'b' : 'a'}`,
          user.accessToken,
          `sk-${token()}`,
          direct((i + j) % 2 ? n1.url : n0.url),
        );
        devices.push(d);
        deviceOf.set(user.id, d);
        await d.start(60_000);
      }
    }
    let restarted = false;
    const acks: Array<{ channel: string; at: number }> = [];
    const stream = async (d: Device, channel: string) => {
      const out: MessageEntry[] = [];
      for (let i = 0; i < MAX_PER_SENDER && (i < MESSAGES_PER_SENDER || !restarted); i++) {
        const entry = await d.send(channel, `${d.label} ${i}`);
        out.push(entry);
        acks.push({ channel, at: Date.now() });
        await new Promise((r) => setTimeout(r, 20));
      }
      return out;
    };
    const streams = [
      ...pairs.map((p) => stream(deviceOf.get(p.a.id)!, p.channel)),
      ...pairs.slice(0, 2).map((p) => stream(deviceOf.get(p.b.id)!, group)),
    ];
    const total = streams.length * MESSAGES_PER_SENDER;
    while (acks.length < total / 4) await new Promise((r) => setTimeout(r, 10));

    await server.kill9();
    const killedAt = Date.now();
    phase(`killed ${server.name} after ${acks.length} of ${total} acked sends`);
    // Down until a send to its channels was refused and others were acked meanwhile (bounded: 15 s).
    const refusedOnDead = () => devices.some((d) => d.sendErrors.some((e) => e.at > killedAt));
    const ackedOnLive = () => acks.some((a) => a.at > killedAt && liveChannels.includes(a.channel));
    const deadline = Date.now() + 15_000;
    while (!(refusedOnDead() && ackedOnLive()) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    // At least a second down, so the fan-out worker's retries and backoff are exercised too.
    await new Promise((r) => setTimeout(r, Math.max(0, killedAt + 1_000 - Date.now())));
    const restartAt = Date.now();
    const ackedWhileDown = acks.filter((a) => a.at > killedAt && a.at < restartAt);
    await server.start();
    restarted = true;
    phase(
      `restarted after ${Date.now() - killedAt} ms down; ${ackedWhileDown.length} sends acked while down`,
    );

    // Progress while the streams finish (what a failure in CI needs to be read).
    const progress = setInterval(() => {
      const waiting = devices.filter((d) => d.unacked > 0).map((d) => `${d.label}:${d.unacked}`);
      const recent = devices.flatMap((d) => d.sendErrors.filter((e) => e.at > Date.now() - 5_000));
      const last = recent.at(-1);
      phase(
        `${acks.length} acked (at least ${total}); waiting: ${waiting.join(' ') || 'none'}; ${recent.length} refusals in 5 s${last ? ` (last: ${last.code} ${last.message})` : ''}`,
      );
    }, 5_000);
    const acked = await Promise.race([
      Promise.all(streams).finally(() => clearInterval(progress)),
      new Promise<never>((_, reject) =>
        setTimeout(() => reject(new Error('streams did not finish')), 90_000),
      ),
    ]);
    phase('every send acked');

    // While the server was down: its channels refused sends with a retryable NATTER_UNAVAILABLE and a
    // retry-after; every other channel kept taking them.
    expect(refusedOnDead(), 'a send to a channel on the dead server was refused').toBe(true);
    const refusals = devices.flatMap((d) => d.sendErrors.filter((e) => e.at > killedAt));
    for (const e of refusals) {
      expect(e.code).toBe('NATTER_UNAVAILABLE');
      expect(e.retryAfterMs ?? 0).toBeGreaterThan(0);
    }
    expect(
      new Set(ackedWhileDown.map((a) => a.channel).filter((c) => liveChannels.includes(c))).size,
    ).toBeGreaterThan(0);

    // 0 lost, 0 duplicated, order kept, on every device, against its full sync log.
    const idsByChannel = new Map<string, Set<string>>();
    for (const entries of acked)
      for (const e of entries) {
        const set = idsByChannel.get(e.message.channelId) ?? new Set<string>();
        set.add(e.message.id);
        idsByChannel.set(e.message.channelId, set);
      }
    expect([...idsByChannel.values()].reduce((n, s) => n + s.size, 0)).toBe(
      acked.reduce((n, list) => n + list.length, 0),
    );
    expect(acks.length).toBeGreaterThanOrEqual(total);
    for (const [i, p] of pairs.entries()) {
      const expected = new Set([...(idsByChannel.get(p.channel) ?? []), ...(idsByChannel.get(group) ?? [])]);
      for (const user of [p.a, p.b]) {
        const d = deviceOf.get(user.id)!;
        await d.until(
          () => [...expected].every((id) => d.applied.some((e) => e.message.id === id)),
          60_000,
          `pair ${i}'s messages`,
        );
        const outcome = outcomeOf(d, await d.fullLog(), expected);
        expect(outcome, d.label).toEqual(perfect(outcome));
        expect(d.failures, d.label).toEqual([]);
      }
    }
    phase('every device verified');
  }, 240_000);
});
