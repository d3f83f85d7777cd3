import { randomBytes } from 'node:crypto';
import { MemoryStore, type StateChange } from '@natter/client';
import { createMetrics, createNatterServer, type NatterServer, silentLogger } from '@natter/server-core';
import { internalsOf } from '@natter/server-core/internals';
import { createMemoryStorage } from '@natter/storage-memory';
import { afterAll, describe, expect, it } from 'vitest';
import { connectAttempts, type Device, device, openSockets, waitFor } from './devices.js';

/**
 * A reconnect storm: 2,000 SDK clients (1,000 users × 2 devices) on real sockets to one in-process server,
 * which restarts (every socket closed at once with 1001). Every client comes back with the SDK's default
 * full-jitter backoff; the suite measures connect attempts per 100 ms against the crowd size, and checks that
 * messages sent during the storm reach every member device exactly once.
 * `npm run test:chaos` runs a bigger crowd (5,000 clients); NATTER_STORM_CLIENTS sets it.
 */
const CLIENTS = Number(process.env.NATTER_STORM_CLIENTS ?? 2_000);
const USERS = Math.ceil(CLIENTS / 2);
/** Messages sent while the crowd is reconnecting. */
const STORM_SENDS = Math.min(200, USERS);
const BUCKET_MS = 100;
/** How long the server stays down, ms: about a real process restart, so first attempts are refused. */
const DOWN_MS = 1_000;

function startServer(storage: ReturnType<typeof createMemoryStorage>, secret: string, port = 0) {
  const server = createNatterServer({
    storage,
    tokens: { secret },
    // A crowd on one host: the per-connection send limit is not what this measures.
    limits: { sendsPerSecond: 1_000, sendBurst: 1_000 },
    // Every client of the crowd comes from 127.0.0.1: the per-address bounds are not what this measures.
    resourceLimits: {
      maxConnectionsPerAddress: 1_000_000,
      handshakesPerAddress: { perSecond: 100_000, burst: 100_000 },
      connectsPerUser: { perSecond: 1_000, burst: 1_000 },
    },
    logger: silentLogger(),
    metrics: createMetrics({ defaults: false }),
  });
  return { server, listening: server.listen(port, '127.0.0.1') };
}

/** Peak and spread of timestamps over fixed buckets. */
function buckets(times: readonly number[], from: number): { peak: number; busiest: number; spanMs: number } {
  const counts = new Map<number, number>();
  for (const t of times) {
    const b = Math.floor((t - from) / BUCKET_MS);
    counts.set(b, (counts.get(b) ?? 0) + 1);
  }
  let peak = 0;
  let busiest = 0;
  for (const [b, n] of counts) {
    if (n > peak) {
      peak = n;
      busiest = b;
    }
  }
  const spanMs = times.length === 0 ? 0 : Math.max(...times) - Math.min(...times);
  return { peak, busiest, spanMs };
}

describe('reconnect storm', () => {
  const devices: Device[] = [];
  let server: NatterServer | undefined;

  afterAll(async () => {
    // Closing thousands of clients one by one is slow; each close is independent.
    await Promise.all(devices.map((d) => d.client.close().catch(() => undefined)));
    await server?.close();
  }, 60_000);

  it(
    `brings ${CLIENTS} clients back after a restart without a thundering herd, losing nothing sent meanwhile`,
    async () => {
      const secret = randomBytes(32).toString('hex');
      const storage = createMemoryStorage();
      const first = startServer(storage, secret);
      server = first.server;
      const { port, url } = await first.listening;

      // Users, tokens and one direct channel per pair of users, straight through the server's parts.
      const userIds = Array.from({ length: USERS }, (_, i) => `u_storm${i}`);
      for (const id of userIds) {
        await storage.accounts.createUser({
          id,
          username: id,
          displayName: id,
          passwordHash: null,
          createdAt: 0,
        });
      }
      const peerOf = (i: number) => (i % 2 === 0 ? i + 1 : i - 1);
      const channelOf = new Map<number, string>();
      for (let i = 0; i + 1 < USERS; i += 2) {
        const channel = await internalsOf(server).service.openDirect(userIds[i]!, userIds[i + 1]!);
        channelOf.set(i, channel.id);
        channelOf.set(i + 1, channel.id);
      }
      const tokens = internalsOf(server).tokens!;
      const deviceOf: Device[][] = userIds.map(() => []);
      const states: { at: number; change: StateChange }[] = [];
      /** When each client's session opened again after the storm began. */
      const reopenedAt = new Map<Device, number>();
      let stormStart = Number.POSITIVE_INFINITY;
      for (let i = 0; i < CLIENTS; i++) {
        const user = i % USERS;
        const deviceId = `dev_storm${i}`;
        const { accessToken } = await tokens.issue(userIds[user]!, deviceId);
        // The SDK's own defaults for backoff, heartbeats and timeouts (undefined drops the helper's quick
        // test settings): they are what is under test.
        const d = device(`u${user}/${deviceId}`, url, new MemoryStore(), {
          deviceId,
          getToken: () => accessToken,
          deliveryReceipts: false,
          backoff: undefined,
          requestTimeoutMs: undefined,
        });
        d.client.on('state', (change) => {
          const at = performance.now();
          states.push({ at, change });
          if (change.status === 'open' && at > stormStart && !reopenedAt.has(d)) reopenedAt.set(d, at);
        });
        devices.push(d);
        deviceOf[user]!.push(d);
      }
      // Connect in waves, so the first connect is not itself the storm.
      for (let i = 0; i < devices.length; i += 250) {
        const wave = devices.slice(i, i + 250);
        for (const d of wave) await d.client.connect();
        await Promise.all(wave.map((d) => d.client.whenSynced()));
      }
      expect(openSockets.size).toBe(CLIENTS);

      // The storm: the server restarts; every socket closes at once.
      stormStart = performance.now();
      const attemptsBefore = connectAttempts.length;
      const statesBefore = states.length;
      await server.close();
      await new Promise((resolve) =>
        setTimeout(resolve, Math.max(0, stormStart + DOWN_MS - performance.now())),
      );
      const second = startServer(storage, secret, port);
      server = second.server;
      await second.listening;
      const downMs = performance.now() - stormStart;

      // Meanwhile, STORM_SENDS users each send one message to their pair: queued, sent after reconnecting.
      const sent: { id: Promise<string>; user: number }[] = [];
      for (let k = 0; k < STORM_SENDS; k++) {
        const user = (k * 7) % USERS;
        const channelId = channelOf.get(user);
        if (!channelId) continue;
        const from = deviceOf[user]![k % 2]!.client;
        sent.push({ id: from.send(channelId, `storm #${k}`).acked.then((m) => m.id), user });
      }

      await waitFor(() => reopenedAt.size === CLIENTS, 90_000, 'every client to reconnect');
      const backMs = Math.max(...reopenedAt.values()) - stormStart;
      const ids = await Promise.all(sent.map((s) => s.id));
      // Each message reaches all four devices of the pair (the sender's own other device included) once.
      await waitFor(
        () =>
          sent.every((s, k) =>
            [...deviceOf[s.user]!, ...deviceOf[peerOf(s.user)]!].every((d) => d.texts.has(ids[k]!)),
          ),
        60_000,
        'every storm message to reach every member device',
      );
      for (const [k, s] of sent.entries()) {
        for (const d of [...deviceOf[s.user]!, ...deviceOf[peerOf(s.user)]!]) {
          expect(d.got.filter((r) => r.id === ids[k]).length, `${d.name} copies of storm #${k}`).toBe(1);
        }
      }
      for (const d of devices) expect(d.duplicates, d.name).toBe(0);

      // How the crowd came back: connect attempts per 100 ms, observed and as the backoff scheduled them.
      const attempts = connectAttempts.slice(attemptsBefore);
      const observed = buckets(attempts, stormStart);
      const scheduled = states
        .slice(statesBefore)
        .filter((s) => s.change.status === 'reconnecting' && s.change.delayMs !== undefined)
        .map((s) => s.at + s.change.delayMs!);
      const planned = buckets(scheduled, stormStart);
      const failed = attempts.length - CLIENTS;
      console.log(
        `reconnect storm: ${CLIENTS} clients, server down ${downMs.toFixed(0)} ms; ${attempts.length} connect ` +
          `attempts (${failed} refused or retried) over ${(observed.spanMs / 1000).toFixed(2)} s; peak ` +
          `${observed.peak} attempts in one ${BUCKET_MS} ms bucket = ${((100 * observed.peak) / CLIENTS).toFixed(1)}% ` +
          `of the crowd (backoff schedule alone: peak ${planned.peak} = ` +
          `${((100 * planned.peak) / CLIENTS).toFixed(1)}%, an all-at-once herd would be 100%); all back in ` +
          `${(backMs / 1000).toFixed(2)} s; ${ids.length} messages sent during the storm, each delivered once to ` +
          `its 4 member devices`,
      );
      // Full jitter over the first 500 ms window puts about a fifth of the crowd in each 100 ms; half the crowd
      // in one bucket would mean the clients reconnect in lockstep.
      expect(planned.peak).toBeLessThan(CLIENTS / 2);
      expect(observed.peak).toBeLessThan(CLIENTS / 2);
    },
    Math.max(180_000, CLIENTS * 90),
  );
});
