import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createNatterServer, type NatterServer, silentLogger } from '@natter/server-core';
import { createSqliteStorage } from '@natter/storage-sqlite';
import Database from 'better-sqlite3';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { bundleFromSource } from '../../../scripts/source-packages.js';
import { createPushGateway } from '../src/index.js';
import { api, directChannel, RawClient, sendText, signup, sleep } from './helpers/natter.js';
import { WebhookReceiver } from './helpers/webhook-receiver.js';

const packageDir = fileURLToPath(new URL('..', import.meta.url));
// Inside the package's node_modules so the bundle's bare imports (better-sqlite3, web-push, ws) resolve.
const bundleDir = path.join(packageDir, 'node_modules/.cache/natter-push-crash-test');
const bundle = path.join(bundleDir, 'child.js');
const TOKEN_SECRET = 'x'.repeat(40);

/** Child processes cannot import TypeScript, so the server + gateway are bundled from source for them. */
async function bundleChild(): Promise<void> {
  await bundleFromSource({
    entry: path.join(packageDir, 'test/fixtures/crash-child.ts'),
    outDir: bundleDir,
    name: 'child',
  });
}

interface Child {
  process: ChildProcess;
  url: string;
  stderr: () => string;
}

async function startChild(config: Record<string, unknown>): Promise<Child> {
  const child = spawn(process.execPath, [bundle, JSON.stringify(config)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (chunk) => {
    stderr += chunk;
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /listening (\S+)\n/.exec(out);
      if (match) resolve(match[1]!);
    });
    child.on('exit', (code) => reject(new Error(`child exited (${code}) before listening: ${stderr}`)));
  });
  return { process: child, url, stderr: () => stderr };
}

async function kill(child: Child): Promise<void> {
  const exited = new Promise((resolve) => child.process.on('exit', resolve));
  child.process.kill('SIGKILL');
  await exited;
}

/** Polls the push store the child writes (a second, read-only connection: WAL allows it). */
async function waitForStore(file: string, sql: string, expected: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const db = new Database(file, { readonly: true, fileMustExist: true });
    try {
      const { n } = db.prepare(sql).get() as { n: number };
      if (n === expected) return;
      if (Date.now() > deadline) throw new Error(`${sql}: expected ${expected}, got ${n}`);
    } finally {
      db.close();
    }
    await sleep(25);
  }
}

describe('push across a crash', () => {
  let dir: string;
  let receiver: WebhookReceiver;
  let restarted: NatterServer | undefined;
  const clients: RawClient[] = [];

  beforeAll(async () => {
    await bundleChild();
  });

  afterAll(() => {
    fs.rmSync(bundleDir, { recursive: true, force: true });
    for (const emptied of [path.dirname(bundleDir), path.join(packageDir, 'node_modules')]) {
      if (fs.existsSync(emptied) && fs.readdirSync(emptied).length === 0) fs.rmdirSync(emptied);
    }
  });

  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    await restarted?.close();
    restarted = undefined;
    await receiver.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  async function scenario(child: { workerIntervalMs: number; retryBaseMs: number }) {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'natter-push-crash-'));
    receiver = await WebhookReceiver.start();
    const files = { natterDb: path.join(dir, 'natter.db'), pushDb: path.join(dir, 'push.db') };
    const running = await startChild({
      ...files,
      ...child,
      tokenSecret: TOKEN_SECRET,
      webhookUrl: receiver.url,
      webhookSecret: receiver.secret,
    });
    const [alice, bob] = await Promise.all([signup(running.url), signup(running.url)]);
    await api(running.url, bob, 'POST', '/v1/push/subscriptions', { kind: 'webhook', token: 'bob-phone' });
    const direct = await directChannel(running.url, alice, bob);
    const group = await api<{ channel: { id: string } }>(running.url, alice, 'POST', '/v1/groups', {
      name: 'g',
      memberIds: [bob.id],
    });
    const sender = await RawClient.connect(running.url, alice.accessToken);
    clients.push(sender);
    return { running, files, alice, bob, channels: [direct, group.body.channel.id] as const, sender };
  }

  /** The same data files, served by a fresh in-process server: the restart after the crash. */
  async function restart(files: { natterDb: string; pushDb: string }) {
    restarted = createNatterServer({
      storage: createSqliteStorage({ path: files.natterDb }),
      tokens: { secret: TOKEN_SECRET },
      logger: silentLogger(),
      presence: { graceMs: 200 },
      push: createPushGateway({
        dataPath: files.pushDb,
        webhook: { url: receiver.url, secret: receiver.secret },
        workerIntervalMs: 50,
        retryBaseMs: 100,
        collapseMs: 0,
      }),
    });
    await restarted.start();
  }

  it('sends notifications owed when the server was killed, once each, after the restart', async () => {
    // A worker that never runs after start-up: every notification stays owed (pending) until the kill.
    const { running, files, bob, channels, sender } = await scenario({
      workerIntervalMs: 3_600_000,
      retryBaseMs: 100,
    });
    const [direct, group] = channels;
    const sent = [
      await sendText(sender, direct, 'd1'),
      await sendText(sender, direct, 'd2'),
      await sendText(sender, direct, 'd3'),
      await sendText(sender, group, 'g1'),
      await sendText(sender, group, 'g2'),
    ];
    await waitForStore(files.pushDb, 'SELECT SUM(count) AS n FROM pending', 5);
    await kill(running);
    expect(receiver.received).toEqual([]);

    await restart(files);
    await waitForAccepted(2);
    await sleep(500); // several more passes: nothing is sent twice
    expect(receiver.accepted).toHaveLength(2);
    const byChannel = new Map(receiver.accepted.map((r) => [r.body.notification.channelId, r.body]));
    expect(byChannel.get(direct)).toMatchObject({
      userId: bob.id,
      token: 'bob-phone',
      notification: { count: 3, latestSeq: sent[2]!.seq, latestMessageId: sent[2]!.id },
    });
    expect(byChannel.get(group)?.notification).toMatchObject({ count: 2, latestMessageId: sent[4]!.id });
    expect(receiver.received.every((r) => r.verified)).toBe(true);
  });

  it('resends a notification whose attempt failed before the kill, once, with the same id', async () => {
    const { running, files, channels, sender } = await scenario({ workerIntervalMs: 50, retryBaseMs: 300 });
    receiver.respond = () => 503;
    await sendText(sender, channels[0], 'will be retried');
    const deadline = Date.now() + 10_000;
    while (receiver.received.length === 0 && Date.now() < deadline) await sleep(10);
    await kill(running);
    const failed = receiver.received.map((r) => r.body.id);
    expect(failed.length).toBeGreaterThanOrEqual(1);
    expect(new Set(failed).size).toBe(1);

    receiver.respond = () => 200;
    await restart(files);
    await waitForAccepted(1);
    await sleep(500);
    expect(receiver.accepted.map((r) => r.body.id)).toEqual([failed[0]]);
  });

  async function waitForAccepted(count: number): Promise<void> {
    const deadline = Date.now() + 10_000;
    while (receiver.accepted.length < count) {
      if (Date.now() > deadline)
        throw new Error(`expected ${count} accepted, got ${receiver.accepted.length}`);
      await sleep(20);
    }
  }
});
