/**
 * The reference natter server: server-core on the embedded SQLite store, HTTP and WebSocket on one port.
 * `npm start` at the repo root runs it. Configuration is by environment variable (see README.md).
 */

import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createLogger, createNatterServer } from '@natter/server-core';
import { createSqliteStorage } from '@natter/storage-sqlite';

const logger = createLogger({ name: 'natter-reference-server' });
const port = Number(process.env.PORT ?? 8080);
const host = process.env.NATTER_HOST ?? '127.0.0.1';
const dataDir = resolve(process.env.NATTER_DATA_DIR ?? './data');
const allowedOrigins = process.env.NATTER_ALLOWED_ORIGINS?.split(',')
  .map((o) => o.trim())
  .filter(Boolean);

/** The token secret: from NATTER_TOKEN_SECRET, else generated once and kept in the data directory. */
function tokenSecret(): string {
  if (process.env.NATTER_TOKEN_SECRET) return process.env.NATTER_TOKEN_SECRET;
  const file = join(dataDir, 'token-secret');
  if (!existsSync(file)) {
    writeFileSync(file, randomBytes(48).toString('base64url'), { mode: 0o600 });
    chmodSync(file, 0o600);
  }
  return readFileSync(file, 'utf8').trim();
}

async function main(): Promise<void> {
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new RangeError(`PORT must be 0-65535, got ${process.env.PORT}`);
  mkdirSync(dataDir, { recursive: true });
  const server = createNatterServer({
    storage: createSqliteStorage({ path: join(dataDir, 'natter.db') }),
    tokens: { secret: tokenSecret() },
    logger,
    ...(allowedOrigins ? { allowedOrigins } : {}),
  });
  const { url } = await server.listen(port, host);
  const wsUrl = url.replace(/^http/, 'ws');
  logger.info({ url, dataDir }, 'natter is listening');
  process.stdout.write(
    `\nnatter reference server\n  HTTP API   ${url}/v1\n  WebSocket  ${wsUrl}${server.config.wsPath}\n  Health     ${url}/healthz\n  Metrics    ${url}/metrics\n  Data       ${dataDir}\n\n`,
  );

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    server
      .drain()
      .then(() => server.close())
      .then(() => process.exit(0))
      .catch((err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      });
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

main().catch((err: unknown) => {
  logger.fatal({ err }, 'natter failed to start');
  process.exit(1);
});
