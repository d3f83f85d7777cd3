/**
 * The server under attack, as its own process (bundled by child.ts): server-core on SQLite with every
 * default limit, on 127.0.0.1:NATTER_ABUSE_PORT. Prints `{"ready":true,"port":...}` once listening and
 * exits when its parent goes away (stdin closes), so a failed run never leaves it behind.
 */
import { join } from 'node:path';
import { createMetrics, createNatterServer, silentLogger } from '@natter/server-core';
import { createSqliteStorage } from '@natter/storage-sqlite';

const port = Number(process.env.NATTER_ABUSE_PORT ?? 0);
const dataDir = process.env.NATTER_ABUSE_DATA ?? '.';
const secret = process.env.NATTER_ABUSE_SECRET ?? '';

const server = createNatterServer({
  storage: createSqliteStorage({ path: join(dataDir, 'natter.db') }),
  tokens: { secret },
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
    process.stderr.write(`abuse server failed to start: ${String(err)}\n`);
    process.exit(1);
  });
