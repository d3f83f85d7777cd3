import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { get } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestUser } from '../helpers/server.js';
import { createGroup, openDirect, token, users } from './helpers/cluster.js';
import { Device, direct } from './helpers/device.js';
import { outcomeOf, perfect } from './helpers/verify.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const cli = join(root, 'packages/cli/dist/cli.js');
const MESSAGES_PER_SENDER = 30;

/** The node id of whichever worker answers a fresh connection (`w<index>-<pid>`). */
function pingNode(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    // agent: false, so every ping is a new connection that the primary may hand to any worker.
    const req = get(`${url}/v1/ping`, { agent: false, timeout: 5_000 }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => {
        body += chunk.toString();
      });
      res.on('end', () => resolve((JSON.parse(body) as { nodeId: string }).nodeId));
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('ping timed out')));
  });
}

/** Pings until `want` distinct workers answered (bounded by count and time). */
async function workersSeen(
  url: string,
  want: number,
  exclude: ReadonlySet<string> = new Set(),
): Promise<Set<string>> {
  const seen = new Set<string>();
  const deadline = Date.now() + 30_000;
  while (seen.size < want && Date.now() < deadline) {
    try {
      const node = await pingNode(url);
      if (!exclude.has(node)) seen.add(node);
    } catch {
      // A worker being replaced may refuse a connection; the next ping goes to another.
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return seen;
}

const pidOf = (nodeId: string) => Number(nodeId.split('-')[1]);

describe('multicore mode (NATTER_WORKERS=2): one deployment on two worker processes', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'natter-multicore-'));
  const devices: Device[] = [];
  let primary: ChildProcess | undefined;
  let url = '';

  beforeAll(async () => {
    if (!existsSync(cli))
      execFileSync('npx', ['turbo', 'run', 'build', '--filter=@natter/cli...'], {
        cwd: root,
        stdio: 'ignore',
      });
    primary = spawn(process.execPath, [cli], {
      env: {
        ...process.env,
        PORT: '0',
        NATTER_DATA_DIR: dataDir,
        NATTER_WORKERS: '2',
        NATTER_MEDIA: '0',
        NATTER_PUSH: '0',
        NATTER_DEMO_USERS: '0',
        NATTER_LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    url = await new Promise<string>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error(`no banner:\n${out}`)), 60_000);
      primary!.stdout!.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        const found = out.match(/Health\s+(http:\S+)\/healthz/);
        if (found) {
          clearTimeout(timer);
          resolve(found[1]!);
        }
      });
    });
  }, 240_000);

  afterAll(async () => {
    await Promise.allSettled(devices.map((d) => d.stop()));
    primary?.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('clients on different workers chat with nothing lost, duplicated or reordered, also across a killed and re-forked worker', {
    timeout: 180_000,
  }, async () => {
    const before = await workersSeen(url, 2);
    expect(before.size, 'both workers answer').toBe(2);

    const members = await users(url, 6, 'mc');
    const [p0, p1] = (await users(url, 2, 'mcp')) as [TestUser, TestUser];
    const group = await createGroup(url, members[0]!, members.slice(1));
    const pair = await openDirect(url, p0, p1);
    const start = async (label: string, user: TestUser) => {
      const d = new Device(label, user.accessToken, `${label}-${token()}`, direct(url));
      devices.push(d);
      await d.start();
      return d;
    };
    // One at a time: the primary hands connections to the workers in turn, so both hold some of them.
    const memberDevices: Device[] = [];
    for (const [i, m] of members.entries()) memberDevices.push(await start(`m${i}`, m));
    const pairDevices = [await start('p0', p0), await start('p1', p1)];
    const all = [...memberDevices, ...pairDevices];

    // Live delivery between workers, before anything fails: m3-m5 only receive, so without the primary
    // relaying the broker they would get nothing until a reconnect.
    const warmup = [
      await memberDevices[0]!.send(group, 'hello from m0'),
      await memberDevices[1]!.send(group, 'hello from m1'),
    ];
    for (const d of memberDevices) {
      await d.until(
        () => warmup.every((w) => d.applied.some((e) => e.message.id === w.message.id)),
        30_000,
        'the warm-up messages, live',
      );
      expect(d.reconnects, d.label).toBe(0);
    }

    let acked = 0;
    const stream = async (d: Device, channel: string) => {
      const entries = [];
      for (let i = 0; i < MESSAGES_PER_SENDER; i++) {
        entries.push(await d.send(channel, `${d.label} ${i}`));
        acked++;
        await new Promise((r) => setTimeout(r, 10));
      }
      return entries;
    };
    const streams = [
      stream(memberDevices[0]!, group),
      stream(memberDevices[1]!, group),
      stream(memberDevices[2]!, group),
      stream(pairDevices[0]!, pair),
      stream(pairDevices[1]!, pair),
    ];
    const deadline = Date.now() + 60_000;
    while (acked < 20 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    const victim = [...before][0]!;
    process.kill(pidOf(victim), 'SIGKILL');

    const sent = await Promise.race([
      Promise.all(streams),
      new Promise<never>((_, reject) =>
        setTimeout(() => reject(new Error('streams did not finish')), 90_000),
      ),
    ]);
    const groupIds = new Set([...warmup, ...sent.slice(0, 3).flat()].map((e) => e.message.id));
    const pairIds = new Set(
      sent
        .slice(3)
        .flat()
        .map((e) => e.message.id),
    );
    expect(groupIds.size).toBe(3 * MESSAGES_PER_SENDER + warmup.length);
    expect(pairIds.size).toBe(2 * MESSAGES_PER_SENDER);
    for (const [d, ids] of [
      ...memberDevices.map((d) => [d, groupIds] as const),
      ...pairDevices.map((d) => [d, pairIds] as const),
    ]) {
      await d.until(
        () => [...ids].every((id) => d.applied.some((e) => e.message.id === id)),
        30_000,
        'every message',
      );
      await d.connected(30_000);
      const outcome = outcomeOf(d, await d.fullLog(), ids);
      expect(outcome, d.label).toEqual(perfect(outcome));
      expect(d.failures, d.label).toEqual([]);
    }
    // The killed worker held some of the clients (they reconnected), the other worker the rest: the
    // messages above crossed between workers.
    const reconnected = all.filter((d) => d.reconnects > 0).length;
    expect(reconnected).toBeGreaterThan(0);
    expect(reconnected).toBeLessThan(all.length);

    // The primary forked a new worker in place of the killed one.
    const after = await workersSeen(url, 2, new Set([victim]));
    expect(after.size, 'two live workers again').toBe(2);
  });

  it('stops cleanly on SIGTERM: workers drain, the primary closes the store and exits 0', async () => {
    const exited = new Promise<number | null>((resolve) => primary!.once('exit', (code) => resolve(code)));
    primary!.kill('SIGTERM');
    expect(await exited).toBe(0);
  }, 60_000);
});
