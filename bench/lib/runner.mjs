import { setTimeout as sleep } from 'node:timers/promises';
import { Histogram } from './histogram.mjs';
import { pinProcess, planPinning } from './pinning.mjs';
import { spawn, stopAll as stopChildren } from './proc.mjs';

/** The systems every scenario compares, and how to start each one's server process. */
export const SYSTEMS = {
  'natter-sqlite': { file: 'systems/natter-server.mjs', options: { store: 'sqlite' }, client: 'frames' },
  'natter-memory': { file: 'systems/natter-server.mjs', options: { store: 'memory' }, client: 'frames' },
  socketio: { file: 'systems/socketio-server.mjs', options: {}, client: 'socketio' },
  ws: { file: 'systems/ws-relay.mjs', options: {}, client: 'frames' },
  // natter on every core the server may use (NATTER_WORKERS): a node:cluster primary that is the SQLite
  // store's one writer, and one worker process per core sharing the port (docs/scaling.md).
  'natter-sqlite-multicore': {
    file: 'systems/natter-multicore.mjs',
    options: { store: 'sqlite' },
    client: 'frames',
  },
  // Diagnosis only (not in the default set): durability traded for throughput, to see what fsync costs.
  'natter-sqlite-normal': {
    file: 'systems/natter-server.mjs',
    options: { store: 'sqlite-normal' },
    client: 'frames',
  },
};

/**
 * The systems of a default run. natter-sqlite-multicore is not in it: it serves the chat scenarios only
 * (no `connections` figure for idle) and would lengthen the full run past its budget; name it with --systems.
 */
export const DEFAULT_SYSTEMS = ['natter-sqlite', 'natter-memory', 'socketio', 'ws'];

/**
 * Options the orchestrator sets once per run (`--profile`, `--sqlite-module`, `--pin-load`). `pinning` is
 * the plan of `--pin-load` (see pinning.mjs); `pinFailures` collects what taskset refused.
 */
export const runOptions = {
  profileDir: undefined,
  sqliteModule: undefined,
  pinning: undefined,
  pinFailures: [],
};

/** Load processes of the chat scenarios (one: on 2 cores the server gets one core and the load the other). */
export const CHAT_LOADS = 1;

/** A load process at or above this share of one core is the limit of what it measures. */
export const LOAD_SATURATED = 0.9;

/** Pins a started child to its share of the cores under `--pin-load`. */
function pinChild(child, role) {
  const plan = runOptions.pinning;
  if (!plan?.pinned) return;
  const cpus = role === 'load' ? plan.loadCpus : plan.serverCpus;
  const failure = pinProcess(child.pid, cpus);
  if (failure && runOptions.pinFailures.length < 10)
    runOptions.pinFailures.push(`${child.label}: ${failure}`);
}

/** Plans `--pin-load` for a run (called once by run.mjs). */
export function enablePinning() {
  runOptions.pinning = planPinning(CHAT_LOADS);
  return runOptions.pinning;
}

/**
 * Starts `count` fresh server processes of one system, each prepared with `plan` (see setup-plan.mjs).
 * Returns them with the union of their users (each tagged with the port of its server).
 */
export async function startSystem(name, plan, count = 1, tag = 'run') {
  const system = SYSTEMS[name];
  const execArgv = ['--expose-gc'];
  // Profiles land in <dir>/<scenario>-<system>/ so a miss can be traced to file:function afterwards.
  if (runOptions.profileDir)
    execArgv.push('--cpu-prof', `--cpu-prof-dir=${runOptions.profileDir}/${tag}-${name}`);
  const servers = await Promise.all(
    Array.from({ length: count }, (_, i) => spawn(system.file, { execArgv, label: `${name}#${i}` })),
  );
  // Before setup: the multicore system forks its workers there, and they inherit the affinity.
  for (const server of servers) pinChild(server, 'server');
  try {
    const options = {
      ...system.options,
      ...(runOptions.sqliteModule ? { sqliteModule: runOptions.sqliteModule } : {}),
    };
    const setups = await Promise.all(servers.map((s) => s.call('setup', { plan, options }, 300_000)));
    const users = setups.flatMap((r) => r.users.map((u) => ({ ...u, port: r.ports[0] })));
    return { servers, users, direct: setups[0].direct, groups: setups[0].groups, client: system.client };
  } catch (err) {
    await stopAll(servers);
    throw err;
  }
}

export async function startLoads(count) {
  const loads = await Promise.all(
    Array.from({ length: count }, (_, i) =>
      spawn('load/load-worker.mjs', { label: `load#${i}`, execArgv: ['--max-old-space-size=4096'] }),
    ),
  );
  for (const load of loads) pinChild(load, 'load');
  return loads;
}

/** Splits `items` into `parts` contiguous slices of near-equal size. */
export function split(items, parts) {
  const out = [];
  const size = Math.ceil(items.length / parts);
  for (let i = 0; i < parts; i++) out.push(items.slice(i * size, (i + 1) * size));
  return out;
}

/** Connects `users` spread over `loads`; the connect rate counts from the first handshake to the last. */
export async function connectAll(loads, kind, users, deadlineMs = 240_000) {
  const parts = split(users, loads.length);
  // Handshakes in flight at the deadline get their own 30 s timeout; 60 s more covers them.
  const results = await Promise.all(
    loads.map((load, i) => load.call('connect', { kind, users: parts[i], deadlineMs }, deadlineMs + 60_000)),
  );
  const connected = results.reduce((n, r) => n + r.connected, 0);
  const ms = Math.max(...results.map((r) => r.ms));
  return {
    connected,
    failed: results.reduce((n, r) => n + r.failed, 0),
    notTried: results.reduce((n, r) => n + r.notTried, 0),
    connectSeconds: round(ms / 1000, 2),
    connectsPerSec: Math.round(connected / (ms / 1000)),
    errors: results.flatMap((r) => r.errors).slice(0, 3),
  };
}

/**
 * One measured window: server CPU (process.cpuUsage deltas reported by the server processes) and what
 * the load processes delivered between `mark` and `report`. Warm-up happens before this is called.
 */
export async function measure(servers, loads, ms) {
  const marks = await Promise.all(loads.map((l) => l.call('mark')));
  const before = await Promise.all(servers.map((s) => s.call('stats')));
  await sleep(ms);
  const after = await Promise.all(servers.map((s) => s.call('stats')));
  // The window is the servers' own: from the latest first sample to the earliest last sample.
  const from = Math.max(...before.map((s) => s.at));
  const to = Math.min(...after.map((s) => s.at));
  const reports = await Promise.all(loads.map((l) => l.call('report', { from, to })));
  const seconds = (to - from) / 1000;
  const serverCpuMicros = after.reduce((n, s, i) => n + s.cpuMicros - before[i].cpuMicros, 0);
  const serverSeconds = Math.max(...after.map((s, i) => s.at - before[i].at)) / 1000;
  const loadCpuMicros = reports.reduce((n, r, i) => n + r.cpuMicros - marks[i].cpuMicros, 0);
  const loadSeconds = Math.max(...reports.map((r, i) => r.at - marks[i].at)) / 1000;
  const delivered = sum(reports, 'inWindow');
  // Systems of several processes (natter-sqlite-multicore) report their primary's share apart.
  const primaryCpuMicros = after.every((s) => s.primaryCpuMicros !== undefined)
    ? after.reduce((n, s, i) => n + s.primaryCpuMicros - before[i].primaryCpuMicros, 0)
    : undefined;
  return {
    seconds: round(seconds, 2),
    delivered,
    acked: sum(reports, 'acked'),
    failed: sum(reports, 'failed'),
    skipped: sum(reports, 'skipped'),
    deliveredPerSec: Math.round(delivered / seconds),
    serverCpuUsPerMsg: delivered ? round(serverCpuMicros / delivered, 2) : null,
    // What one fully busy server core would deliver at this cost: the throughput figure that still holds
    // when the load process, not the server, was the bottleneck (2 cores shared by server and load).
    perCorePerSec: delivered && serverCpuMicros ? Math.round((1e6 * delivered) / serverCpuMicros) : null,
    ...(primaryCpuMicros !== undefined && delivered
      ? { primaryCpuUsPerMsg: round(primaryCpuMicros / delivered, 2) }
      : {}),
    // 1.0 = one core busy all the time: shows whether the server or the load was the bottleneck.
    serverCpuUtil: round(serverCpuMicros / 1e6 / serverSeconds, 2),
    loadCpuUtil: round(loadCpuMicros / 1e6 / loadSeconds, 2),
    loadProcesses: loads.length,
    // The load measured its own limit, not the server's: its busiest share of a core per process.
    loadSaturated: loadCpuMicros / 1e6 / loadSeconds / loads.length >= LOAD_SATURATED,
    // Late answers to the stats requests mean the server's event loop was blocked that long.
    statsLagMs: round(Math.max(...before.map((s) => s.at)) - Math.min(...marks.map((m) => m.at)), 1),
    latencyMs: Histogram.merge(reports.map((r) => r.latency)).summary(),
  };
}

/** Stops the traffic of every load process, then lets the system settle briefly. */
export async function stopTraffic(loads) {
  await Promise.all(loads.map((l) => l.call('stopChat', { drainMs: 2_000 }, 15_000)));
  await sleep(200);
}

/** Runs one system's part of a scenario and records its wall time (where the run's minutes went). */
export async function timed(fn, ...args) {
  const started = Date.now();
  const result = await fn(...args);
  return { ...result, wallSeconds: round((Date.now() - started) / 1000, 1) };
}

export const sum = (items, key) => items.reduce((n, x) => n + (x[key] ?? 0), 0);
export const round = (x, digits = 0) => Math.round(x * 10 ** digits) / 10 ** digits;
export { sleep };

/** Stops children; a profiled process gets time to write its profile, others are killed after 1 s. */
export const stopAll = (children) => stopChildren(children, runOptions.profileDir ? 15_000 : 1_000);
