import cluster, { type Worker } from 'node:cluster';
import type { AddressInfo } from 'node:net';
import type { Logger } from '@natter/server-core';
import { createSqliteStorage } from '@natter/storage-sqlite';
import type { CliOptions } from '../options.js';
import { banner, checkServerEnv, dataFiles, demoLine } from '../server.js';
import { MulticoreHub } from './hub.js';
import { nodeIpcPort } from './port.js';

/** A worker that dies sooner than this after its start counts as a crash loop: its restart waits. */
const STABLE_AFTER_MS = 5_000;
/** The longest wait before restarting a worker that keeps dying. */
const MAX_RESTART_DELAY_MS = 10_000;
/** How long a stopping worker may drain before it is killed. */
const STOP_GRACE_MS = 30_000;

/**
 * The primary of the multicore mode (`NATTER_WORKERS` > 1): opens the SQLite store (the only process that
 * writes it), forks the workers, relays their broker traffic and answers their store, presence and
 * registry calls ({@link MulticoreHub}). The workers share the listening port (node:cluster hands each new
 * connection to the next worker); any worker serves any user, since the store and the broker are shared.
 * A worker that dies is forked again; SIGINT or SIGTERM drain the workers, then close the store.
 */
export async function runPrimary(options: CliOptions, logger: Logger): Promise<void> {
  checkServerEnv();
  const { secret, storePath } = dataFiles(options.dataDir);
  const storage = createSqliteStorage({ path: storePath });
  await storage.open();
  const hub = new MulticoreHub(storage);
  if (process.env.NATTER_MEDIA !== '0' || process.env.NATTER_PUSH !== '0')
    logger.warn('multicore mode: media uploads and push notifications are off (NATTER_WORKERS=1 keeps them)');

  // Structured clone instead of JSON: bytes (broker payloads) cross as bytes.
  cluster.setupPrimary({ serialization: 'advanced' });
  let stopping = false;
  let announced = false;
  const listening = new Set<number>();
  const crashes = new Map<number, number>();

  const fork = (index: number) => {
    const startedAt = Date.now();
    const worker: Worker = cluster.fork({
      NATTER_WORKER_INDEX: String(index),
      // Every worker signs and checks tokens with the same secret (the file is made once, here).
      NATTER_TOKEN_SECRET: secret,
    });
    hub.attach(nodeIpcPort(worker));
    worker.on('listening', (address: AddressInfo | { port: number; address: string | null }) => {
      listening.add(index);
      crashes.set(index, 0);
      if (announced || listening.size < options.workers) return;
      announced = true;
      const shownHost = options.host.includes(':') ? `[${options.host}]` : options.host;
      const url = `http://${shownHost}:${address.port}`;
      logger.info({ url, dataDir: options.dataDir, workers: options.workers }, 'natter is listening');
      process.stdout.write(
        banner({
          url,
          wsPath: '/v1/ws',
          dataDir: options.dataDir,
          demo: demoLine(options.host),
          workers: options.workers,
        }),
      );
    });
    worker.on('exit', (code, signal) => {
      listening.delete(index);
      if (stopping) return;
      const quick = Date.now() - startedAt < STABLE_AFTER_MS;
      const count = quick ? (crashes.get(index) ?? 0) + 1 : 0;
      crashes.set(index, count);
      const delay = count === 0 ? 0 : Math.min(MAX_RESTART_DELAY_MS, 250 * 2 ** (count - 1));
      logger.warn(
        { worker: index, code, signal, restartInMs: delay },
        'natter worker exited; forking it again',
      );
      setTimeout(() => {
        if (!stopping) fork(index);
      }, delay);
    });
  };
  for (let index = 0; index < options.workers; index++) fork(index);

  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down the workers');
    const workers = Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined);
    const exited = workers.map(
      (w) =>
        new Promise<void>((done) => {
          if (w.isDead()) return done();
          const kill = setTimeout(() => w.process.kill('SIGKILL'), STOP_GRACE_MS);
          w.once('exit', () => {
            clearTimeout(kill);
            done();
          });
          w.process.kill('SIGTERM');
        }),
    );
    Promise.all(exited)
      .then(() => storage.close())
      .then(() => process.exit(0))
      .catch((err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      });
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}
