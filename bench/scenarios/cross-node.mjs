import { connect as tcpConnect } from 'node:net';
import { Histogram } from '../lib/histogram.mjs';
import { spawn } from '../lib/proc.mjs';
import { connectAll, round, runOptions, sleep, startLoads, stopAll, stopTraffic } from '../lib/runner.mjs';
import { loopbackFloor } from '../load/loopback-floor.mjs';

/**
 * Scenario 6 (issue #8): cross-node delivery. natter chat nodes (bench/systems/natter-cluster-node.mjs),
 * each a fresh process, share a store and a broker (Redis pub/sub or NATS). Eight configurations, each
 * with processes of its own (16 nodes in all): {redis, nats} × {1 node, 3 nodes} on one PostgreSQL
 * server, and (issue #19) redis × {1 node, 3 nodes} on the sharded store over one and over three servers.
 *
 * The same pairs send at the same fixed rate in every configuration (open loop, like direct's rate
 * phase), so p99 is compared at equal load. The first user of each pair sends into the pair's direct
 * channel, the second receives. With 3 nodes, pair i's sender is on node i mod 3 and its receiver on node
 * (i + 1) mod 3: every message crosses the broker. With 1 node both are on the one node (the broker is
 * still configured, so the node publishes as it would in a cluster; delivery is local).
 *
 * The configurations are measured interleaved: all of them start at once (an idle node costs nothing),
 * and the traffic goes to one configuration at a time, in `rounds` rounds of one `slice` each, the order
 * rotating every round. On a shared machine a burst of another tenant's load, or an fsync stall of the
 * disk, then falls on every configuration alike instead of deciding one configuration's p99 by itself,
 * which a run of one configuration after the other showed (the same configuration's p99 moved up to 8×).
 *
 * Figures per configuration (summed or merged over its slices): send-to-receive p50/p99/p999, delivered
 * msg/s, server CPU µs per delivered message summed over the configuration's node processes (not
 * PostgreSQL's, Redis's or NATS's own CPU), the p99 of each slice, what the broker adapters counted
 * (publishes, failed publishes, errors reported by code), and `undelivered`: acknowledged sends that never
 * reached their receiver (the broker is at-most-once and the load does no gap filling).
 *
 * Each store is a schema of the run's own (`natter_bench_xn_<pid>_<time>`, `_s1`/`_s3` on the shard
 * servers), dropped at the end (schemas of a run that was killed are dropped at the start of the next one).
 * A store's users and channels are created once, by the first node of its first configuration, and every
 * configuration on that store serves the same users; each configuration has its own broker topics, so a
 * message is delivered live only inside its configuration. A service that does not answer is recorded as
 * `skipped: <service> unreachable at <url>` (a store that is down or not built: its configurations).
 */

/** Where the services are: the variables the cluster tests read (tests/cluster/helpers/env.ts), same defaults. */
const env = (name, fallback) => process.env[name] ?? fallback;
const PG_URL = env('NATTER_PG_URL', 'postgres://postgres@127.0.0.1:5432/test');
const BROKER_URLS = {
  redis: env('NATTER_REDIS_URL', 'redis://127.0.0.1:6379'),
  nats: env('NATTER_NATS_URL', 'nats://127.0.0.1:4222'),
};
const SERVICE_NAMES = { redis: 'Redis', nats: 'NATS' };
const DEFAULT_PORTS = { 'redis:': 6379, 'nats:': 4222, 'postgres:': 5432, 'postgresql:': 5432 };

/** Every schema this scenario creates starts with this, followed by the orchestrator's pid. */
const SCHEMA_PREFIX = 'natter_bench_xn_';

/** The sharded store's servers (tests/cluster/helpers/env.ts reads the same variable, same default). */
const PG_SHARD_URLS = env(
  'NATTER_PG_SHARD_URLS',
  [5433, 5434, 5435].map((port) => `postgres://postgres@127.0.0.1:${port}/test`).join(','),
)
  .split(',')
  .map((url) => url.trim())
  .filter(Boolean);

/**
 * The stores a configuration can run on: the single PostgreSQL (`@natter/storage-postgres` on
 * NATTER_PG_URL), and the sharded store (`@natter/storage-postgres-sharded`) on the first shard server
 * alone and on three. Each store has a schema of its own per run (and so its own users and channels).
 */
export const STORES = {
  postgres: { urls: [PG_URL], suffix: '' },
  'sharded-1': { urls: PG_SHARD_URLS.slice(0, 1), suffix: '_s1' },
  'sharded-3': { urls: PG_SHARD_URLS.slice(0, 3), suffix: '_s3' },
};

/** Every configuration; the sharded store over Redis only (the broker is not what it changes). */
export const CONFIGS = [
  { broker: 'redis', nodes: 1, store: 'postgres' },
  { broker: 'redis', nodes: 3, store: 'postgres' },
  { broker: 'nats', nodes: 1, store: 'postgres' },
  { broker: 'nats', nodes: 3, store: 'postgres' },
  { broker: 'redis', nodes: 1, store: 'sharded-1' },
  { broker: 'redis', nodes: 3, store: 'sharded-1' },
  { broker: 'redis', nodes: 1, store: 'sharded-3' },
  { broker: 'redis', nodes: 3, store: 'sharded-3' },
];
export const configName = ({ broker, nodes, store = 'postgres' }) =>
  `${broker} ${nodes} node${nodes === 1 ? '' : 's'}${store === 'postgres' ? '' : `, ${store}`}`;

/**
 * The same offered load for 1 and 3 nodes. A node spends milliseconds of CPU per message here (about ten
 * PostgreSQL round trips per send, each a pair of syscalls), so on this 2-core box one node saturates at
 * ~250 sends/s when the machine is quiet, and 3 node processes, PostgreSQL, the broker and the load share
 * the two cores. 50 sends/s stays well below saturation even when other tenants take most of the CPU, so
 * the latencies are delivery, not queueing for a saturated server.
 *   burst, warm: per configuration before the first round, a closed-loop burst (every sender keeps one
 *     send in flight), then twice the rate (with 3 nodes each node sees a third of the traffic; a short
 *     warm-up left the first slices' p99 dominated by first-time work);
 *   settle: at the measured rate before each slice's window opens.
 */
export function paramsFor(quick) {
  const rate = Number(process.env.NATTER_BENCH_CROSSNODE_RATE) || 50;
  // busyRate, busyRounds: a second slice per round (in the first busyRounds rounds) at a rate where
  // the nodes are busy: CPU per message at 50 sends/s is mostly the cost of waking idle processes.
  const busy = { busyRate: Number(process.env.NATTER_BENCH_CROSSNODE_BUSY_RATE) || 500 };
  return quick
    ? {
        pairs: 50,
        rateSendsPerSec: rate,
        ...busy,
        busyRounds: 1,
        burst: 200,
        warm: 500,
        settle: 300,
        rounds: 1,
        slice: 2_500,
      }
    : {
        pairs: 250,
        rateSendsPerSec: rate,
        ...busy,
        busyRounds: 2,
        burst: 1_000,
        warm: 3_000,
        settle: 500,
        rounds: 5,
        slice: 5_000,
      };
}

/**
 * Configurations to run: all, or those whose tag (`redis1`, `nats3`, `redis3_s3`, ...) is listed in
 * NATTER_BENCH_CROSSNODE (comma-separated), for profiling one of them without the others.
 */
function selected(config) {
  const only = process.env.NATTER_BENCH_CROSSNODE?.split(',').filter(Boolean);
  return !only?.length || only.includes(`${config.broker}${config.nodes}${STORES[config.store].suffix}`);
}

export async function crossNode({ quick, systems = [], progress = () => {}, params = paramsFor(quick) }) {
  const schema = `${SCHEMA_PREFIX}${process.pid}_${Date.now().toString(36)}`;
  const out = {
    title: 'Cross-node delivery',
    params: {
      ...params,
      measuredMsPerConfiguration: params.rounds * params.slice,
      stores: Object.keys(STORES),
      pgSchema: schema,
    },
    services: { postgres: PG_URL, ...BROKER_URLS },
    systems: {},
  };
  if (!systems.some((s) => s.startsWith('natter'))) {
    return { ...out, status: 'skipped: no natter system selected (--systems)' };
  }
  const pg = await openPg();
  if (pg.error) return { ...out, status: `skipped: PostgreSQL unreachable at ${PG_URL} (${pg.error})` };
  const brokerUp = {};
  for (const broker of Object.keys(BROKER_URLS)) brokerUp[broker] = await reachable(BROKER_URLS[broker]);
  const storeDown = {};
  for (const [store, { urls }] of Object.entries(STORES)) {
    const down = [];
    for (const url of urls) if (!(await reachable(url))) down.push(url);
    if (urls.length === 0) storeDown[store] = 'no server configured (NATTER_PG_SHARD_URLS)';
    else if (down.length) storeDown[store] = `PostgreSQL unreachable at ${down.join(', ')}`;
    else if (store !== 'postgres' && !(await shardedAvailable()))
      storeDown[store] = '@natter/storage-postgres-sharded is not built';
  }
  const configs = [];
  for (const config of CONFIGS.filter(selected)) {
    if (!brokerUp[config.broker]) {
      const url = BROKER_URLS[config.broker];
      out.systems[configName(config)] = { skipped: `${SERVICE_NAMES[config.broker]} unreachable at ${url}` };
    } else if (storeDown[config.store]) {
      out.systems[configName(config)] = { skipped: storeDown[config.store] };
    } else configs.push(config);
  }
  out.services.pgShards = PG_SHARD_URLS;
  // The machine's floor at both rates, measured before any node starts (see loopback-floor.mjs).
  if (configs.length) {
    progress('loopback floor');
    const seconds = quick ? 2 : 5;
    out.floor = [];
    for (const rate of [params.rateSendsPerSec, params.busyRate]) {
      out.floor.push(await loopbackFloor(rate, rate * seconds));
    }
  }
  const live = { nodes: [], load: undefined };
  try {
    if (configs.length) {
      await dropLeftovers(pg.client);
      const { results, timings } = await runInterleaved(configs, params, schema, progress, live);
      // In the order of CONFIGS, skipped ones included.
      const skipped = out.systems;
      out.systems = {};
      for (const config of CONFIGS) {
        const name = configName(config);
        out.systems[name] = results[name] ??
          skipped[name] ?? { skipped: 'not selected (NATTER_BENCH_CROSSNODE)' };
      }
      out.timings = timings;
    }
  } finally {
    // A clean shutdown closes each node's pool before the process goes.
    progress('stopping');
    await Promise.allSettled(live.nodes.map((n) => n.call('shutdown', {}, 5_000)));
    const load = await live.load?.catch(() => undefined);
    await stopAll([...live.nodes, ...(load ?? [])]);
    await pg.client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => undefined);
    await pg.client.end().catch(() => undefined);
    for (const { urls, suffix } of Object.values(STORES))
      if (suffix) await onShards(urls, (c) => c.query(`DROP SCHEMA IF EXISTS "${schema}${suffix}" CASCADE`));
  }
  out.notes = notesOf(out);
  return out;
}

async function runInterleaved(configs, params, schema, progress, live) {
  const rate = params.rateSendsPerSec;
  const timings = {};
  let t = Date.now();
  const lap = (key) => {
    timings[key] = round((Date.now() - t) / 1000, 1);
    t = Date.now();
  };
  // The load process starts with the nodes.
  live.load = startLoads(1);
  live.load.catch(() => undefined);
  const clusters = configs.map((config) => ({
    config,
    name: configName(config),
    tag: `${config.broker}${config.nodes}${STORES[config.store].suffix}`,
    servers: [],
    ports: [],
    slices: [],
    busySlices: [],
    error: undefined,
  }));
  const nodeCount = configs.reduce((n, c) => n + c.nodes, 0);
  progress(`starting ${nodeCount} nodes, creating ${2 * params.pairs} users`);
  const plan = { users: 2 * params.pairs, directPairs: params.pairs };
  // Users and channels per store: the first node of the first configuration on each store creates them.
  const fixtures = {};
  const creator = new Map();
  for (const c of clusters) if (!creator.has(c.config.store)) creator.set(c.config.store, c);
  // Every node starts at once. The schema's migration is serialised by an advisory lock, so whichever
  // node comes first creates it.
  await Promise.all(
    clusters.map(async (c) => {
      try {
        await Promise.all(
          Array.from({ length: c.config.nodes }, async (_, i) => {
            const node = await startNode(i, c.tag);
            live.nodes.push(node);
            c.servers[i] = node;
            const store = STORES[c.config.store];
            const options = {
              broker: c.config.broker,
              brokerUrl: BROKER_URLS[c.config.broker],
              // Topics of this configuration only: the others (and other runs, tests) stay apart.
              prefix: `natter-bench.${process.pid}.${c.tag}.`,
              store: c.config.store,
              pgUrl: PG_URL,
              shardUrls: store.urls,
              schema: `${schema}${store.suffix}`,
              nodeId: `${c.tag}-${i}`,
            };
            const first = creator.get(c.config.store) === c && i === 0;
            const setup = await node.call('setup', { ...(first ? { plan } : {}), options }, 120_000);
            c.ports[i] = setup.ports[0];
            if (first) fixtures[c.config.store] = setup;
          }),
        );
      } catch (err) {
        c.error = String(err?.message ?? err).slice(0, 500);
      }
    }),
  );
  for (const c of clusters)
    if (!fixtures[c.config.store])
      c.error ??= `the first node of ${c.config.store} did not create the users: ${creator.get(c.config.store)?.error}`;
  if (!Object.keys(fixtures).length) throw new Error(`no node created the users: ${clusters[0].error}`);
  lap('startSeconds');

  // One load process holds every configuration's connections: configuration k's users are clients
  // k * U .. k * U + U - 1. Pair i's sender (user 2i) is on node i mod n, its receiver on (i + 1) mod n.
  const running = clusters.filter((c) => !c.error);
  const all = [];
  for (const c of running) {
    const fixture = fixtures[c.config.store];
    c.offset = all.length;
    for (const [j, user] of fixture.users.entries()) {
      const pair = Math.floor(j / 2);
      all.push({ ...user, port: c.ports[(pair + (j % 2)) % c.config.nodes] });
    }
    c.senders = fixture.direct.map((channelId, i) => ({ index: c.offset + 2 * i, channelId }));
  }
  const [load] = await live.load;
  progress(`connecting ${all.length} users (${2 * params.pairs} per configuration)`);
  const connect = await connectAll([load], 'frames', all, 60_000);
  if (connect.failed || connect.notTried)
    throw new Error(`only ${connect.connected} of ${all.length} connected: ${connect.errors}`);
  timings.connectsPerSec = connect.connectsPerSec;
  lap('connectSeconds');

  const chat = (c, sendsPerSec, ms) =>
    load.call('startChat', {
      senders: c.senders,
      mode: 'rate',
      rate: sendsPerSec,
      maxInFlight: Math.max(100, sendsPerSec / 2),
      maxMs: ms + 30_000,
    });
  for (const c of running) {
    progress(`${c.name}: warm-up`);
    try {
      // First a burst with every sender keeping one send in flight: the nodes open all their pooled
      // PostgreSQL connections (a backend each, with cold caches) now rather than inside a window.
      await load.call('startChat', {
        senders: c.senders,
        mode: 'closed',
        window: 1,
        maxMs: params.burst + 30_000,
      });
      await sleep(params.burst);
      await stopTraffic([load]);
      // Then twice the measured rate.
      await chat(c, 2 * rate, params.warm);
      await sleep(params.warm);
      await stopTraffic([load]);
    } catch (err) {
      c.error = String(err?.message ?? err).slice(0, 500);
    }
  }
  lap('warmSeconds');

  /** One slice at `sendsPerSec`, its undelivered sends counted after the traffic stopped. */
  const measuredSlice = async (c, sendsPerSec) => {
    await chat(c, sendsPerSec, params.settle + params.slice);
    await sleep(params.settle);
    const slice = await measureSlice(c.servers, load, params.slice);
    await stopTraffic([load]);
    // Every acknowledged send should reach its receiver; wait (bounded) for the last deliveries.
    let tail = await load.call('report');
    for (let i = 0; i < 20 && tail.delivered < tail.acked; i++) {
      await sleep(100);
      tail = await load.call('report');
    }
    slice.undelivered = Math.max(0, tail.acked - tail.delivered);
    return slice;
  };

  for (let r = 0; r < params.rounds; r++) {
    // The order rotates, so no configuration always follows the same one.
    const order = running.map((_, i) => running[(i + r) % running.length]);
    for (const c of order) {
      if (c.error) continue;
      progress(`round ${r + 1}/${params.rounds}: ${c.name} at ${rate} sends/s`);
      try {
        c.slices.push(await measuredSlice(c, rate));
        if (r < params.busyRounds) {
          progress(`round ${r + 1}/${params.rounds}: ${c.name} at ${params.busyRate} sends/s`);
          c.busySlices.push(await measuredSlice(c, params.busyRate));
        }
      } catch (err) {
        c.error = String(err?.message ?? err).slice(0, 500);
        await stopTraffic([load]).catch(() => undefined);
      }
    }
  }
  lap('measureSeconds');

  const results = {};
  for (const c of clusters) {
    const base = { broker: c.config.broker, nodes: c.config.nodes, store: c.config.store };
    if (c.error && !c.slices.length) {
      results[c.name] = { ...base, error: c.error };
      continue;
    }
    const stats = await Promise.all(c.servers.map((s) => s.call('stats', {}, 10_000).catch(() => ({}))));
    results[c.name] = {
      ...base,
      ...(c.error ? { error: c.error } : {}),
      rate: { sendsPerSec: rate, ...combine(c.slices) },
      ...(c.busySlices.length ? { busy: { sendsPerSec: params.busyRate, ...combine(c.busySlices) } } : {}),
      undelivered: [...c.slices, ...c.busySlices].reduce((n, s) => n + s.undelivered, 0),
      brokerCounts: brokerTotals(stats),
    };
  }
  return { results, timings };
}

/**
 * One measured slice of one configuration: its servers' CPU (process.cpuUsage deltas) and what the load
 * delivered between the servers' two samples, as in runner.mjs's `measure`, but returning the raw sums
 * and the histogram so slices can be combined.
 */
async function measureSlice(servers, load, ms) {
  const mark = await load.call('mark');
  const before = await Promise.all(servers.map((s) => s.call('stats')));
  await sleep(ms);
  const after = await Promise.all(servers.map((s) => s.call('stats')));
  const from = Math.max(...before.map((s) => s.at));
  const to = Math.min(...after.map((s) => s.at));
  const report = await load.call('report', { from, to });
  return {
    seconds: (to - from) / 1000,
    delivered: report.inWindow,
    acked: report.acked,
    failed: report.failed,
    skipped: report.skipped,
    serverCpuMicros: after.reduce((n, s, i) => n + s.cpuMicros - before[i].cpuMicros, 0),
    serverSeconds: Math.max(...after.map((s, i) => s.at - before[i].at)) / 1000,
    loadCpuMicros: report.cpuMicros - mark.cpuMicros,
    loadSeconds: (report.at - mark.at) / 1000,
    statsLagMs: Math.max(...before.map((s) => s.at)) - mark.at,
    latency: report.latency,
  };
}

/** The figures of a configuration over all its slices. */
function combine(slices) {
  const total = (key) => slices.reduce((n, s) => n + s[key], 0);
  const seconds = total('seconds');
  const delivered = total('delivered');
  const cpu = total('serverCpuMicros');
  return {
    slices: slices.length,
    seconds: round(seconds, 2),
    delivered,
    acked: total('acked'),
    failed: total('failed'),
    skipped: total('skipped'),
    deliveredPerSec: Math.round(delivered / seconds),
    serverCpuUsPerMsg: delivered ? round(cpu / delivered, 2) : null,
    perCorePerSec: delivered && cpu ? Math.round((1e6 * delivered) / cpu) : null,
    serverCpuUtil: round(cpu / 1e6 / total('serverSeconds'), 2),
    loadCpuUtil: round(total('loadCpuMicros') / 1e6 / total('loadSeconds'), 2),
    statsLagMs: round(Math.max(...slices.map((s) => s.statsLagMs)), 1),
    latencyMs: Histogram.merge(slices.map((s) => s.latency)).summary(),
    // How much the p99 moved between slices: the noise of the machine, next to the figure.
    p99BySliceMs: slices.map((s) => round(Histogram.merge([s.latency]).quantile(0.99) ?? Number.NaN, 1)),
  };
}

function startNode(i, tag) {
  const execArgv = ['--expose-gc'];
  // --profile: one .cpuprofile per node in <dir>/crossNode-<broker><nodes>/.
  if (runOptions.profileDir)
    execArgv.push('--cpu-prof', `--cpu-prof-dir=${runOptions.profileDir}/crossNode-${tag}`);
  // 16 node processes start at once: on a loaded 2-core machine one can take longer than spawn's 15 s.
  return spawn('systems/natter-cluster-node.mjs', {
    execArgv,
    label: `cluster-${tag}#${i}`,
    startTimeoutMs: 60_000,
  });
}

/** Sums the broker counters of every node (whole run of the configuration, warm-up included). */
function brokerTotals(stats) {
  const total = { published: 0, publishFailed: 0, received: 0, errors: {} };
  for (const { broker } of stats) {
    if (!broker) continue;
    total.published += broker.published;
    total.publishFailed += broker.publishFailed;
    total.received += broker.received;
    for (const [code, n] of Object.entries(broker.errors)) total.errors[code] = (total.errors[code] ?? 0) + n;
  }
  return total;
}

function notesOf(out) {
  const notes = [];
  for (const [name, r] of Object.entries(out.systems)) {
    const b = r.brokerCounts;
    if (!b) continue;
    const errors = Object.entries(b.errors).map(([code, n]) => `${code} ×${n}`);
    if (b.publishFailed || errors.length)
      notes.push(`${name}: broker reported ${[`${b.publishFailed} failed publishes`, ...errors].join(', ')}`);
  }
  if (!notes.length && Object.values(out.systems).some((r) => r.brokerCounts))
    notes.push('No broker errors and no failed publishes in any configuration.');
  return notes;
}

/** A PostgreSQL client for creating and dropping schemas, or the reason there is none. */
async function openPg() {
  if (!(await reachable(PG_URL))) return { error: 'no TCP connection within 1 s' };
  try {
    const { default: pg } = await import('pg');
    const client = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 3_000 });
    await client.connect();
    // A DROP behind a lock some crashed process still holds must not stall the run.
    await client.query(`SET lock_timeout = '5s'`);
    return { client };
  } catch (err) {
    return { error: String(err?.message ?? err) };
  }
}

/** Drops schemas of earlier runs whose orchestrator is gone (killed before it could clean up), on every server. */
async function dropLeftovers(pg) {
  const dropOn = async (client) => {
    const { rows } = await client.query(
      `SELECT nspname FROM pg_namespace WHERE nspname LIKE '${SCHEMA_PREFIX}%'`,
    );
    for (const { nspname } of rows) {
      const pid = Number(nspname.slice(SCHEMA_PREFIX.length).split('_')[0]);
      if (pid === process.pid || alive(pid)) continue;
      await client.query(`DROP SCHEMA IF EXISTS "${nspname}" CASCADE`).catch(() => undefined);
    }
  };
  await dropOn(pg);
  await onShards(PG_SHARD_URLS, dropOn);
}

/** Runs `fn` with a client on each reachable shard server (errors ignored: cleanup only). */
async function onShards(urls, fn) {
  const { default: pg } = await import('pg');
  for (const url of urls) {
    if (!(await reachable(url))) continue;
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3_000 });
    try {
      await client.connect();
      await client.query(`SET lock_timeout = '5s'`);
      await fn(client);
    } catch {
      // cleanup is best effort
    } finally {
      await client.end().catch(() => undefined);
    }
  }
}

/** Whether the sharded store's package can be imported (built). */
async function shardedAvailable() {
  try {
    const mod = await import('@natter/storage-postgres-sharded');
    return typeof mod.createShardedPostgresStorage === 'function';
  } catch {
    return false;
  }
}

function alive(pid) {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return err.code === 'EPERM';
  }
}

/** Whether something accepts TCP connections at the URL's host and port (1 s budget). */
function reachable(url) {
  let parsed;
  try {
    parsed = new URL(url);
  } catch {
    return Promise.resolve(false);
  }
  const port = Number(parsed.port) || DEFAULT_PORTS[parsed.protocol] || 0;
  return new Promise((resolve) => {
    const socket = tcpConnect({ host: parsed.hostname.replace(/^\[|\]$/g, ''), port });
    const done = (ok) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1_000, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}
