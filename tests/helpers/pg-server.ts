import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { acquireServiceLock } from '@natter/broker-conformance';
import pg from 'pg';

const run = promisify(execFile);

/**
 * A local PostgreSQL cluster (Debian's `pg_ctlcluster` layout) that a failure test may kill -9 and start
 * again: the `killable` cluster `.ci/services.sh` keeps on 5436 for exactly that, so no other suite running
 * at the same time loses its server.
 */
export interface KillableServer {
  readonly url: string;
  readonly version: string;
  readonly name: string;
  readonly dataDir: string;
  /** SIGKILL to the postmaster and every backend (a crash of the server, not a shutdown); waits until down. */
  kill9(): Promise<void>;
  /** `pg_ctlcluster <version> <name> start` (crash recovery runs), then waits until it answers a query. */
  start(): Promise<void>;
  /** Starts it when it is down (for afterAll: a failed test must not leave it dead for the next run). */
  ensureUp(): Promise<void>;
}

interface ClusterRow {
  version: string;
  name: string;
  port: number;
  dataDir: string;
}

/** The clusters `pg_lsclusters` lists on this machine. */
async function listClusters(): Promise<ClusterRow[]> {
  const { stdout } = await run('pg_lsclusters', ['--no-header']);
  return stdout
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .filter((cols) => cols.length >= 6)
    .map(([version, name, port, , , dataDir]) => ({
      version: version!,
      name: name!,
      port: Number(port),
      dataDir: dataDir!,
    }));
}

/** Answers a query within `budgetMs`? (A TCP accept is not enough: during crash recovery it refuses logins.) */
async function answers(url: string, budgetMs = 2_000): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: budgetMs });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function waitUntil(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** The postmaster's pid, from the first line of `postmaster.pid` (undefined when it is not running). */
function postmasterPid(dataDir: string): number | undefined {
  try {
    const pid = Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    return Number.isInteger(pid) && pid > 0 && alive(pid) ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Direct children of `pid` (the backends and auxiliary processes of a postmaster). */
async function childrenOf(pid: number): Promise<number[]> {
  const { stdout } = await run('pgrep', ['-P', String(pid)]).catch(() => ({ stdout: '' }));
  return stdout
    .split('\n')
    .map(Number)
    .filter((n) => Number.isInteger(n) && n > 0);
}

/**
 * The local cluster that listens on `url`'s port. Throws (naming the variable) when no local cluster does:
 * killing a server needs it on this machine.
 */
export async function killableServer(url: string): Promise<KillableServer> {
  const port = Number(new URL(url).port) || 5432;
  const row = (await listClusters()).find((c) => c.port === port);
  if (!row) {
    throw new Error(
      `no local PostgreSQL cluster listens on :${port} (NATTER_PG_KILLABLE_URL=${url}); run \`bash .ci/services.sh\``,
    );
  }
  const server: KillableServer = {
    url,
    version: row.version,
    name: row.name,
    dataDir: row.dataDir,
    async kill9() {
      const pid = postmasterPid(row.dataDir);
      if (pid === undefined) return;
      // The postmaster and its backends in one go: nothing gets to shut down or flush cleanly.
      const pids = [pid, ...(await childrenOf(pid))];
      for (const p of pids) {
        try {
          process.kill(p, 'SIGKILL');
        } catch {
          // already gone
        }
      }
      await waitUntil(`${row.name} to die`, async () => pids.every((p) => !alive(p)), 15_000);
    },
    async start() {
      // A stale postmaster.pid after SIGKILL is removed by pg_ctl itself ("Removed stale pid file").
      await run('pg_ctlcluster', ['--skip-systemctl-redirect', row.version, row.name, 'start']).catch(
        (err: unknown) => {
          // "already running" is fine: ensureUp may race a start of services.sh.
          if (postmasterPid(row.dataDir) === undefined) throw err;
        },
      );
      await waitUntil(`${row.name} on :${port} to answer`, () => answers(url), 60_000);
    },
    async ensureUp() {
      if (!(await answers(url))) await server.start();
    },
  };
  return server;
}

/**
 * Takes the machine-wide lock of the killable server: test files run in parallel, and one file's kill -9
 * must never land in another file's test. Resolves with the release function.
 */
export const lockKillableServer = (): Promise<() => Promise<void>> => acquireServiceLock('pg-killable');
