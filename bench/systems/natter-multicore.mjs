import { execFileSync } from 'node:child_process';
import cluster from 'node:cluster';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { createNatterServer, silentLogger } from '@natter/server-core';
import { createSqliteStorage } from '@natter/storage-sqlite';
import { connectWorkerParts, MulticoreHub, nodeIpcPort } from '../../packages/cli/dist/multicore.js';
import { dieOnError, now, processStats, scratchDir, serve } from '../lib/ipc.mjs';
import { seedPlan } from './seed-natter.mjs';

/**
 * natter on every core the server may use, as `NATTER_WORKERS` runs it (packages/cli/src/multicore): this
 * process is the node:cluster primary (the SQLite store's only writer, synchronous=full; the broker relay;
 * presence and registry), and `workers` processes share the listening port. `workers` defaults to the cores
 * this process may run on (its CPU affinity: all of them, or the server's share under `--pin-load`).
 * Users, tokens and channels are seeded in the primary through the engine, on the same store, as
 * natter-server.mjs does. `stats` sums the CPU of the primary and every worker (from /proc).
 */
const SECRET = 'bench-secret-bench-secret-bench-secret-0123';
const OPTIONS = {
  tokens: { secret: SECRET, accessTtlSeconds: 3600 },
  logger: silentLogger(),
  limits: { sendsPerSecond: 1_000_000, sendBurst: 1_000_000, heartbeatTimeoutMs: 3_600_000 },
  resourceLimits: {
    maxConnectionsPerAddress: 1_000_000,
    handshakesPerAddress: { perSecond: 1_000_000, burst: 1_000_000 },
  },
};

if (cluster.isWorker) {
  dieOnError();
  const parts = await connectWorkerParts(nodeIpcPort(process));
  const server = createNatterServer({
    ...OPTIONS,
    storage: parts.storage,
    cluster: { broker: parts.broker, registry: parts.registry, nodeId: `w${cluster.worker.id}` },
    presence: { store: parts.presence },
  });
  // Port 0 in every worker: node:cluster gives them all the same port.
  await server.listen(0, '127.0.0.1');
  process.on('disconnect', () => process.exit(0));
} else {
  dieOnError();
  const dir = scratchDir('natter-mc-');
  let storage;
  const workers = [];

  /** The cores this process may run on (what `taskset` left it). */
  function allowedCores() {
    try {
      const status = readFileSync('/proc/self/status', 'utf8');
      const list = status.match(/Cpus_allowed_list:\s*(\S+)/)?.[1];
      if (list)
        return list.split(',').reduce((n, part) => {
          const [a, b] = part.split('-').map(Number);
          return n + (b === undefined ? 1 : b - a + 1);
        }, 0);
    } catch {
      // Not Linux: every core.
    }
    return availableParallelism();
  }

  const ticksPerSecond = (() => {
    try {
      return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      return 100;
    }
  })();

  /** CPU time of a worker (user + system, µs) from /proc; 0 once it is gone. */
  function cpuOf(pid) {
    try {
      // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return ((Number(fields[11]) + Number(fields[12])) * 1e6) / ticksPerSecond;
    } catch {
      return 0;
    }
  }

  async function setup({ plan, options }) {
    storage = createSqliteStorage({ path: join(dir, 'natter.db'), synchronous: 'full' });
    await storage.open();
    // The seeding engine: not listening, on the primary's own store.
    const seeder = createNatterServer({ ...OPTIONS, storage });
    await seeder.start();
    const seeded = await seedPlan(seeder, storage, plan);
    const hub = new MulticoreHub(storage);
    const count = options.workers ?? allowedCores();
    cluster.setupPrimary({ serialization: 'advanced' });
    const ports = await Promise.all(
      Array.from(
        { length: count },
        () =>
          new Promise((resolve, reject) => {
            const worker = cluster.fork();
            workers.push(worker);
            hub.attach(nodeIpcPort(worker));
            worker.once('listening', (address) => resolve(address.port));
            worker.once('exit', (code) => reject(new Error(`worker exited (${code}) while starting`)));
          }),
      ),
    );
    return { ports: [ports[0]], ...seeded, workers: count };
  }

  serve({
    setup,
    stats: ({ collect }) => {
      const own = processStats({ collect });
      const workerCpu = workers.reduce((n, w) => n + cpuOf(w.process.pid), 0);
      // The primary's own share apart: it is the one writer, so its CPU per message bounds the mode.
      return {
        ...own,
        at: now(),
        cpuMicros: own.cpuMicros + workerCpu,
        primaryCpuMicros: own.cpuMicros,
        workers: workers.length,
      };
    },
  });
  process.on('exit', () => {
    for (const w of workers) w.process.kill('SIGKILL');
  });
}
