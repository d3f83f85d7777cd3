import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { reachable } from './env.js';

const run = promisify(execFile);
const SERVICES_SH = fileURLToPath(new URL('../../../.ci/services.sh', import.meta.url));

/**
 * The exact commands .ci/services.sh uses to start Redis (its `mkdir` and `redis-server` lines), read from
 * the script so the test and CI can never disagree.
 */
export function redisStartCommand(): string {
  const lines = readFileSync(SERVICES_SH, 'utf8')
    .split('\n')
    .map((l) => l.trim());
  const start = lines.findIndex((l) => l.startsWith('redis-server '));
  if (start < 0) throw new Error('.ci/services.sh has no redis-server line');
  const mkdir = lines
    .slice(0, start)
    .reverse()
    .find((l) => l.startsWith('mkdir -p /var/lib/redis'));
  return [mkdir, lines[start]!.replace(/\s*\|\|\s*true\s*$/, '')].filter(Boolean).join(' && ');
}

async function waitFor(url: string, up: boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((await reachable(url)) !== up) {
    if (Date.now() > deadline) throw new Error(`${url} still ${up ? 'down' : 'up'} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** `redis-cli shutdown nosave`: Redis stops at once, losing nothing that matters (no persistence in CI). */
export async function stopRedis(url: string): Promise<void> {
  const { hostname, port } = new URL(url);
  await run('redis-cli', ['-h', hostname, '-p', port || '6379', 'shutdown', 'nosave']).catch(() => undefined);
  await waitFor(url, false, 10_000);
}

/** Starts Redis with the services.sh command when it is down (idempotent), and waits for it. */
export async function ensureRedis(url: string): Promise<void> {
  if (await reachable(url)) return;
  await run('bash', ['-c', redisStartCommand()]);
  await waitFor(url, true, 15_000);
}

/** A private nats-server on a free loopback port, which the test may stop and start again. */
export class PrivateNats {
  private child: ChildProcess | undefined;
  private constructor(readonly port: number) {}

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  static async start(): Promise<PrivateNats> {
    const port = await freePort();
    const nats = new PrivateNats(port);
    await nats.startProcess();
    return nats;
  }

  async startProcess(): Promise<void> {
    this.child = spawn('nats-server', ['-a', '127.0.0.1', '-p', String(this.port)], { stdio: 'ignore' });
    await waitFor(this.url.replace('nats:', 'tcp:'), true, 10_000);
  }

  /** Kills the server process (by its pid) and waits until the port is closed. */
  async stopProcess(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
    await waitFor(this.url.replace('nats:', 'tcp:'), false, 10_000);
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
