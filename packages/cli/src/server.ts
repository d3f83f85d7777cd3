/**
 * The reference natter server: server-core on the embedded SQLite store, HTTP and WebSocket on one port,
 * and the web demo (`examples/web-demo`) at `/`. `npx natter` and `npm start` at the repo root run it.
 * Flags set port, host and data directory; everything else is an environment variable (see README.md).
 */

import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createFsBlobStore } from '@natter/blob-fs';
import { createMedia, createSqliteMediaStore, defaultMediaPaths } from '@natter/media';
import { createPushGateway } from '@natter/push';
import { createNatterServer, type Logger, listeningHosts } from '@natter/server-core';
import { createSqliteStorage } from '@natter/storage-sqlite';
import { DEMO_PASSWORD, DEMO_USERS, demoUsersEnabled, seedDemo } from './demo-seed.js';
import type { WorkerParts } from './multicore/hub.js';
import type { CliOptions } from './options.js';
import { createStaticSite, isBuiltSite, missingSite } from './static-site.js';
import { loadVapidKeys } from './vapid.js';

const allowedOrigins = process.env.NATTER_ALLOWED_ORIGINS?.split(',')
  .map((o) => o.trim())
  .filter(Boolean);
const allowedHosts = process.env.NATTER_ALLOWED_HOSTS?.split(',')
  .map((h) => h.trim())
  .filter(Boolean);
const metricsToken = process.env.NATTER_METRICS_TOKEN || undefined;
const presenceGraceMs = process.env.NATTER_PRESENCE_GRACE_MS
  ? Number(process.env.NATTER_PRESENCE_GRACE_MS)
  : undefined;

/** The token secret: from NATTER_TOKEN_SECRET, else generated once and kept in the data directory. */
function tokenSecret(dataDir: string): string {
  if (process.env.NATTER_TOKEN_SECRET) return process.env.NATTER_TOKEN_SECRET;
  const file = join(dataDir, 'token-secret');
  if (!existsSync(file)) {
    writeFileSync(file, randomBytes(48).toString('base64url'), { mode: 0o600 });
    chmodSync(file, 0o600);
  }
  return readFileSync(file, 'utf8').trim();
}

/**
 * The built web demo: NATTER_WEB_ROOT, else the copy the build put beside this file (`dist/web`, what the
 * published package ships), else the `dist` of the `@natter/web-demo` workspace package.
 */
function webRoot(): string {
  if (process.env.NATTER_WEB_ROOT) return resolve(process.env.NATTER_WEB_ROOT);
  const shipped = fileURLToPath(new URL('./web', import.meta.url));
  if (isBuiltSite(shipped)) return shipped;
  try {
    const manifest = createRequire(import.meta.url).resolve('@natter/web-demo/package.json');
    return join(dirname(manifest), 'dist');
  } catch {
    return resolve('examples/web-demo/dist');
  }
}

/**
 * Push notifications for offline users: Web Push with VAPID keys kept in the data directory, and the signed
 * webhook when `NATTER_PUSH_WEBHOOK_URL` and `NATTER_PUSH_WEBHOOK_SECRET` are set. `NATTER_PUSH=0` turns it off.
 */
function pushGateway(dataDir: string) {
  const keys = loadVapidKeys(join(dataDir, 'vapid.json'));
  const webhookUrl = process.env.NATTER_PUSH_WEBHOOK_URL;
  const webhookSecret = process.env.NATTER_PUSH_WEBHOOK_SECRET;
  return createPushGateway({
    dataPath: join(dataDir, 'push.db'),
    webPush: { vapid: { subject: process.env.NATTER_VAPID_SUBJECT ?? 'mailto:admin@localhost', ...keys } },
    ...(webhookUrl && webhookSecret ? { webhook: { url: webhookUrl, secret: webhookSecret } } : {}),
  });
}

/** A secret kept in the data directory (mode 0600), made on first use. */
function keptSecret(dataDir: string, name: string): string {
  const file = join(dataDir, name);
  if (!existsSync(file)) {
    writeFileSync(file, randomBytes(48).toString('base64url'), { mode: 0o600 });
    chmodSync(file, 0o600);
  }
  return readFileSync(file, 'utf8').trim();
}

/**
 * Media: uploads under the data directory (`media/` content-addressed blobs, `media.sqlite` metadata,
 * `uploads/` tus staging), signed URLs with a secret kept there. `NATTER_MEDIA=0` turns it off;
 * `NATTER_MEDIA_MAX_BYTES` and `NATTER_MEDIA_QUOTA_BYTES` set the limits.
 */
function media(dataDir: string) {
  const paths = defaultMediaPaths(dataDir);
  const maxBytes = process.env.NATTER_MEDIA_MAX_BYTES
    ? Number(process.env.NATTER_MEDIA_MAX_BYTES)
    : undefined;
  const quota = process.env.NATTER_MEDIA_QUOTA_BYTES
    ? Number(process.env.NATTER_MEDIA_QUOTA_BYTES)
    : undefined;
  return createMedia({
    blobs: createFsBlobStore({ root: paths.blobs }),
    store: createSqliteMediaStore({ path: paths.metadata }),
    pipeline: { tempDir: join(dataDir, 'tmp'), ...(maxBytes ? { maxUploadBytes: maxBytes } : {}) },
    ...(quota ? { quotaBytes: quota } : {}),
    tus: { stagingDir: paths.staging },
    urlSecret: process.env.NATTER_MEDIA_URL_SECRET ?? keptSecret(dataDir, 'media-url-secret'),
  });
}

/** A worker of the multicore mode: its parts reach the primary, which prints the banner. */
export interface WorkerRole {
  /** 0 for the first worker: it seeds the demo users. */
  index: number;
  parts: WorkerParts;
}

/** Checks the settings read from the environment; throws on a bad one. */
export function checkServerEnv(): void {
  if (presenceGraceMs !== undefined && !(Number.isInteger(presenceGraceMs) && presenceGraceMs > 0))
    throw new RangeError(`NATTER_PRESENCE_GRACE_MS must be a positive integer, got ${presenceGraceMs}`);
}

/** The token secret and the SQLite file of a data directory (the primary opens the store in multicore mode). */
export function dataFiles(dataDir: string): { secret: string; storePath: string } {
  mkdirSync(dataDir, { recursive: true });
  return { secret: tokenSecret(dataDir), storePath: join(dataDir, 'natter.db') };
}

/**
 * Serves natter until SIGINT or SIGTERM, then drains and exits. As a multicore `worker`, the store, broker,
 * presence and registry are the primary's (media and push are off: see docs/scaling.md).
 */
export async function runServer(options: CliOptions, logger: Logger, worker?: WorkerRole): Promise<void> {
  const { port, host, dataDir } = options;
  checkServerEnv();
  const { secret, storePath } = dataFiles(dataDir);
  const parts = worker?.parts;
  const server = createNatterServer({
    storage: parts ? parts.storage : createSqliteStorage({ path: storePath }),
    tokens: { secret },
    logger,
    ...(allowedOrigins ? { allowedOrigins } : {}),
    // The CLI listens itself, so it names its own Hosts: the bound address and localhost forms (DNS
    // rebinding of the demo accounts on loopback is what this stops). Behind a proxy, set NATTER_ALLOWED_HOSTS.
    ...(allowedHosts
      ? { allowedHosts: allowedHosts.length === 1 && allowedHosts[0] === '*' ? '*' : allowedHosts }
      : port !== 0
        ? { allowedHosts: listeningHosts(host, port) }
        : {}),
    ...(metricsToken ? { metricsToken } : {}),
    ...(presenceGraceMs !== undefined ? { presence: { graceMs: presenceGraceMs } } : {}),
    ...(parts
      ? {
          cluster: {
            broker: parts.broker,
            registry: parts.registry,
            nodeId: `w${worker.index}-${process.pid}`,
          },
          presence: {
            ...(presenceGraceMs !== undefined ? { graceMs: presenceGraceMs } : {}),
            store: parts.presence,
          },
        }
      : {
          ...(process.env.NATTER_PUSH === '0' ? {} : { push: pushGateway(dataDir) }),
          ...(process.env.NATTER_MEDIA === '0' ? {} : { media: media(dataDir) }),
        }),
  });

  const root = webRoot();
  const site = isBuiltSite(root) ? createStaticSite(root) : missingSite(root);
  if (!isBuiltSite(root)) logger.warn({ root }, 'web demo not built; serving the API only');
  const httpServer = createServer((req: IncomingMessage, res: ServerResponse) => {
    if (server.handles(req)) server.requestListener(req, res);
    else site(req, res);
  });
  server.attach(httpServer);
  await server.start();
  const seedsDemo = demoUsersEnabled(process.env.NATTER_DEMO_USERS, host) && (worker?.index ?? 0) === 0;
  let demo = '';
  // Before listening, so the demo users exist once the port answers (in multicore mode too).
  if (seedsDemo) {
    try {
      const seeded = await seedDemo((request) => server.fetch(request));
      logger.info(seeded, 'demo users ready');
      demo = demoLine(host);
    } catch (err) {
      logger.warn({ err }, 'could not seed the demo users');
    }
  }
  await new Promise<void>((done, fail) => {
    httpServer.once('error', fail);
    httpServer.listen(port, host, () => done());
  });
  const shownHost = host.includes(':') ? `[${host}]` : host;
  const url = `http://${shownHost}:${(httpServer.address() as AddressInfo).port}`;

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    server
      .drain()
      .then(() => server.close())
      .then(
        () =>
          new Promise<void>((done) => {
            httpServer.close(() => done());
            httpServer.closeAllConnections();
          }),
      )
      .then(() => process.exit(0))
      .catch((err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      });
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  if (worker) {
    // A worker without its primary has no store: it leaves, and the port with it.
    process.on('disconnect', () => process.exit(1));
    logger.info({ url, worker: worker.index }, 'natter worker is listening');
    return;
  }
  // Announced only once the signal handlers are in place: a supervisor that stops the server as soon as
  // it is up must get a clean shutdown, not the default action of a signal nobody listens to yet.
  logger.info({ url, dataDir }, 'natter is listening');
  process.stdout.write(banner({ url, wsPath: server.wsPath, dataDir, demo }));
}

/** The lines `npx natter` prints once it is listening. */
export function banner(at: {
  url: string;
  wsPath: string;
  dataDir: string;
  demo: string;
  workers?: number;
}): string {
  const { url, wsPath, dataDir, demo } = at;
  const wsUrl = url.replace(/^http/, 'ws');
  const workers =
    at.workers && at.workers > 1
      ? `  Workers    ${at.workers} processes, one SQLite writer (the primary)\n`
      : '';
  return `\nnatter reference server\n  Web demo   ${url}/\n${demo}  HTTP API   ${url}/v1\n  WebSocket  ${wsUrl}${wsPath}\n  Health     ${url}/healthz\n  Metrics    ${url}/metrics\n${workers}  Data       ${dataDir}\n\n`;
}

/** The banner's line about the demo users, when they are on. */
export function demoLine(host: string): string {
  return demoUsersEnabled(process.env.NATTER_DEMO_USERS, host)
    ? `  Demo users ${DEMO_USERS.map((u) => u.username).join(', ')} (password ${DEMO_PASSWORD}); NATTER_DEMO_USERS=0 turns them off\n`
    : '';
}
