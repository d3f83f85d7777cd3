/**
 * A natter server as its own process for the chaos suites (bundled from source by child-server.ts):
 * server-core on SQLite (`synchronous=FULL`, the default) in NATTER_CHAOS_DATA, on NATTER_CHAOS_PORT.
 * Prints `{"ready":true,"port":...}` once listening; exits when its parent goes away (stdin closes), so a
 * failed test never leaves it behind. SIGKILL is the crash under test: nothing here handles it.
 */
import { join } from 'node:path';
import { createMetrics, createNatterServer, silentLogger } from '@natter/server-core';
import { createSqliteStorage } from '@natter/storage-sqlite';

const port = Number(process.env.NATTER_CHAOS_PORT ?? 0);
const dataDir = process.env.NATTER_CHAOS_DATA ?? '.';
const secret = process.env.NATTER_CHAOS_SECRET ?? '';

const server = createNatterServer({
  storage: createSqliteStorage({ path: join(dataDir, 'natter.db') }),
  tokens: { secret },
  // The chaos run measures delivery under faults, not the per-connection rate limiter.
  limits: { sendsPerSecond: 10_000, sendBurst: 10_000 },
  // Every device comes from 127.0.0.1 and reconnects after each kill: the abuse bounds are not measured here.
  resourceLimits: {
    maxConnectionsPerAddress: 1_000_000,
    handshakesPerAddress: { perSecond: 100_000, burst: 100_000 },
    signupsPerAddress: { perSecond: 1_000, burst: 1_000 },
    connectsPerUser: { perSecond: 1_000, burst: 1_000 },
  },
  logger: silentLogger(),
  metrics: createMetrics({ defaults: false }),
});

let stopping = false;
async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  setTimeout(() => process.exit(0), 3_000).unref();
  await server.close().catch(() => undefined);
  process.exit(0);
}

process.stdin.on('end', () => void stop());
process.stdin.on('close', () => void stop());
process.stdin.resume();
process.on('SIGTERM', () => void stop());

server
  .listen(port, '127.0.0.1')
  .then(({ port: actual }) => process.stdout.write(`${JSON.stringify({ ready: true, port: actual })}\n`))
  .catch((err: unknown) => {
    process.stderr.write(`chaos server failed to start: ${String(err)}\n`);
    process.exit(1);
  });
