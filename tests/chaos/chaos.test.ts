import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ClientStore, MemoryStore, type Message, type SendHandle } from '@natter/client';
import { LevelStore } from '@natter/client/level';
import { createSqliteStorage } from '@natter/storage-sqlite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  bundleServer,
  freePort,
  killAllServerProcesses,
  removeBundle,
  type ServerProcess,
  startServerProcess,
} from './child-server.js';
import { type Device, device, lcg, openSockets, streamProblems, waitFor } from './devices.js';

/**
 * Chaos on real processes: the server as a child process on SQLite (synchronous=FULL) on loopback, SDK
 * clients in this process on real sockets. 10,000 messages while client sockets are reset at random and
 * the server is SIGKILLed twice: nothing lost, nothing duplicated, per-channel order on every device.
 * `npm run test:chaos` runs the long variant (100,000 messages, 10 SIGKILLs); NATTER_CHAOS_MESSAGES,
 * NATTER_CHAOS_KILLS, NATTER_CHAOS_RESET_RATE and NATTER_CHAOS_SEED tune it.
 */
const TOTAL = Number(process.env.NATTER_CHAOS_MESSAGES ?? 10_000);
/** After each send, the chance that one random open client socket is destroyed. */
const RESET_RATE = Number(process.env.NATTER_CHAOS_RESET_RATE ?? 0.05);
const SEED = Number(process.env.NATTER_CHAOS_SEED ?? Date.now() % 1_000_000);
/** SIGKILL + restart of the server, evenly spread over the run. */
const KILLS = Number(process.env.NATTER_CHAOS_KILLS ?? 2);
/** Sends a sender may have unacknowledged before the loop waits for it. */
const WINDOW = 32;
/** The restart budget the suite asserts: spawn to /healthz 200. */
const RESTART_BUDGET_MS = 3_000;

/** Awaits `promise`, failing with a diagnosis when it takes more than 30 s (a stuck send). */
async function stalled<T>(promise: Promise<T>, diagnosis: () => string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no progress for 30 s: ${diagnosis()}`)), 30_000);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function diagnose(devices: Device[]): string {
  return devices
    .map((d) => {
      const pending = d.client.pending();
      return (
        `${d.name}: ${d.client.status}, ${pending.length} pending ` +
        `(${pending
          .slice(0, 3)
          .map((p) => `${p.text}:${p.status}:${p.attempts}`)
          .join(' ')}), ` +
        `cursor ${d.client.cursor().pos}, stats ${JSON.stringify(d.client.stats())}`
      );
    })
    .join('\n');
}

describe('chaos on real processes', () => {
  const dirs: string[] = [];
  const devices: Device[] = [];
  const tempDir = () => {
    const dir = mkdtempSync(join(tmpdir(), 'natter-chaos-'));
    dirs.push(dir);
    return dir;
  };

  beforeAll(async () => {
    await bundleServer();
  }, 60_000);

  afterAll(async () => {
    await Promise.all(devices.map((d) => d.client.close().catch(() => undefined)));
    await killAllServerProcesses();
    await removeBundle();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  }, 30_000);

  it(
    `delivers ${TOTAL} messages once and in order while sockets reset and the server is SIGKILLed ${KILLS} times`,
    async () => {
      const random = lcg(SEED);
      const dataDir = tempDir();
      const port = await freePort();
      const secret = randomBytes(32).toString('hex');
      const start = () => startServerProcess({ port, dataDir, secret });
      let server: ServerProcess = await start();
      const restartMs: number[] = [server.startupMs];

      // Alice and Bob have a durable LevelDB device and an in-memory one each; Carol one in-memory device.
      const make = (name: string, store: ClientStore) => {
        const d = device(name, server.url, store);
        devices.push(d);
        return d;
      };
      const a1 = make('alice-1', new LevelStore(join(tempDir(), 'level')));
      const a2 = make('alice-2', new MemoryStore());
      const b1 = make('bob-1', new LevelStore(join(tempDir(), 'level')));
      const b2 = make('bob-2', new MemoryStore());
      const c1 = make('carol-1', new MemoryStore());
      await a1.client.signup('alice', 'alice-password-1');
      const bob = await b1.client.signup('bob', 'bob-password-1');
      const carol = await c1.client.signup('carol', 'carol-password-1');
      await a2.client.login('alice', 'alice-password-1');
      await b2.client.login('bob', 'bob-password-1');
      const direct = await a1.client.openDirect(bob.id);
      const group = await a1.client.createGroup('team', [bob.id, carol.id]);
      for (const d of devices) await d.client.connect();
      await Promise.all(devices.map((d) => d.client.whenSynced()));

      const senders = [
        { d: a1, channels: [direct.id, group.id], window: [] as Promise<unknown>[] },
        { d: a2, channels: [direct.id, group.id], window: [] as Promise<unknown>[] },
        { d: b1, channels: [direct.id, group.id], window: [] as Promise<unknown>[] },
        { d: c1, channels: [group.id], window: [] as Promise<unknown>[] },
      ];
      const sent: { sender: string; channelId: string; handle: SendHandle }[] = [];
      const killAt = new Set(
        Array.from({ length: KILLS }, (_, k) => Math.floor(((k + 1) * TOTAL) / (KILLS + 1))),
      );
      let resets = 0;
      const started = performance.now();
      for (let i = 0; i < TOTAL; i++) {
        const s = senders[i % senders.length]!;
        const channelId = s.channels[Math.floor(random() * s.channels.length)]!;
        const handle = s.d.client.send(channelId, `${s.d.name} #${i}`);
        sent.push({ sender: s.d.name, channelId, handle });
        s.window.push(handle.acked);
        if (s.window.length >= WINDOW) await stalled(s.window.shift()!, () => diagnose(devices));
        if (random() < RESET_RATE && openSockets.size > 0) {
          const sockets = [...openSockets];
          sockets[Math.floor(random() * sockets.length)]!.terminate();
          resets++;
        }
        if (killAt.has(i)) {
          await server.kill9();
          server = await start();
          restartMs.push(server.startupMs);
        }
      }
      const stored: Message[] = await stalled(Promise.all(sent.map((s) => s.handle.acked)), () =>
        diagnose(devices),
      );
      const sendMs = performance.now() - started;

      // Everyone converges: every text of their channels, once.
      const inChannel = (channelId: string) => stored.filter((m) => m.channelId === channelId).length;
      const expected = new Map<Device, number>([
        [a1, TOTAL],
        [a2, TOTAL],
        [b1, TOTAL],
        [b2, TOTAL],
        [c1, inChannel(group.id)],
      ]);
      await waitFor(
        () => devices.every((d) => d.texts.size >= expected.get(d)!),
        60_000,
        'every device to receive every message',
      );
      await Promise.all(devices.map((d) => d.client.whenSynced()));
      const convergeMs = performance.now() - started - sendMs;

      const ids = new Set(stored.map((m) => m.id));
      expect(ids.size, 'each send stored as its own message').toBe(TOTAL);
      for (const d of devices) {
        expect(streamProblems(d), d.name).toEqual([]);
        expect(d.duplicates, `${d.name} duplicates`).toBe(0);
        expect(d.texts.size, `${d.name} texts`).toBe(expected.get(d));
        const missing = [...d.texts].filter((id) => !ids.has(id));
        expect(missing, `${d.name} got texts nobody sent`).toEqual([]);
        expect(d.client.pending(), `${d.name} outbox`).toEqual([]);
      }
      // The devices of one user saw the very same log.
      expect(a2.got.map((r) => r.id)).toEqual(a1.got.map((r) => r.id));
      expect(b2.got.map((r) => r.id)).toEqual(b1.got.map((r) => r.id));
      // One sender's messages to one channel are stored in the order they were sent.
      for (const s of senders) {
        for (const channelId of s.channels) {
          const mine = sent
            .map((x, i) => ({ i, x, m: stored[i]! }))
            .filter(({ x }) => x.sender === s.d.name && x.channelId === channelId);
          const inversion = mine.findIndex((e, k) => k > 0 && e.m.seq < mine[k - 1]!.m.seq);
          const around = mine
            .slice(Math.max(0, inversion - 3), inversion + 3)
            .map((e) => `send #${e.i} -> seq ${e.m.seq}`);
          expect(inversion, `${s.d.name} in ${channelId}: ${around.join(', ')}`).toBe(-1);
        }
      }

      // The database agrees after a clean stop: every message exactly once.
      await Promise.all(devices.map((d) => d.client.close()));
      devices.length = 0;
      await server.stop();
      const storage = createSqliteStorage({ path: join(dataDir, 'natter.db') });
      await storage.open();
      try {
        for (const channelId of [direct.id, group.id]) {
          const texts: Message[] = [];
          for (;;) {
            const page = await storage.chat.readHistory(channelId, {
              after: texts.at(-1)?.seq ?? 0,
              limit: 1_000,
              minSeq: 1,
            });
            texts.push(...page.messages.filter((m) => m.kind === 'text'));
            if (!page.hasMoreAfter) break;
          }
          expect(texts.length, `stored texts of ${channelId}`).toBe(inChannel(channelId));
          expect(new Set(texts.map((m) => `${m.senderId}/${m.clientMsgId}`)).size).toBe(texts.length);
        }
      } finally {
        await storage.close();
      }

      const stats = [a1, a2, b1, b2, c1].map((d) => d.client.stats());
      console.log(
        `chaos (seed ${SEED}): ${TOTAL} messages to ${a1.got.length} positions on 5 devices in ` +
          `${(sendMs / 1000).toFixed(1)} s (${Math.round(TOTAL / (sendMs / 1000))} msg/s) + ` +
          `${(convergeMs / 1000).toFixed(1)} s to converge; ${resets} socket resets, ${KILLS} SIGKILLs; ` +
          `server healthy after spawn in ${restartMs.map((ms) => ms.toFixed(0)).join(' / ')} ms ` +
          `(first start / restarts); reconnects ${stats.map((s) => s.reconnects).join('/')}, ` +
          `outbox resends ${stats.map((s) => s.retries).join('/')}, ` +
          `gaps filled ${stats.map((s) => s.gapsFilled).join('/')}, ` +
          `duplicates dropped ${stats.map((s) => s.duplicatesDropped).join('/')}; 0 lost, 0 duplicated`,
      );
      expect(Math.max(...restartMs.slice(1))).toBeLessThan(RESTART_BUDGET_MS);
    },
    Math.max(240_000, TOTAL * 6),
  );
});
