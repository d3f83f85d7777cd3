import { connectAll, round, sleep, startLoads, startSystem, stopAll, timed } from '../lib/runner.mjs';

/**
 * Scenario 1: idle authenticated connections. Server memory per connection (RSS and heap deltas after a
 * forced GC, against a baseline taken after setup) and the connect rate. Above ~17k connections the
 * server side runs as several processes (20k fds per process here) and the figures are summed.
 */
const PER_SERVER = 17_000;
const PER_LOAD = 15_000;

/** How long the load may spend opening one size's connections before it reports what it reached. */
const CONNECT_DEADLINE_MS = { quick: 60_000, full: 240_000 };

export async function idle({ quick, systems, progress }) {
  const sizes = quick ? [1_000] : [10_000, 50_000];
  // The memory store is not touched by an idle connection beyond one syncHead read, so its per-connection
  // state is natter-sqlite's; measuring it at 50k as well would cost minutes of the 20-minute budget.
  const sizesOf = (name) => (name === 'natter-memory' ? sizes.slice(0, 1) : sizes);
  const out = {
    title: 'Idle connections',
    params: {
      sizes,
      perServerProcess: PER_SERVER,
      connectDeadlineMs: CONNECT_DEADLINE_MS[quick ? 'quick' : 'full'],
    },
    notes:
      sizes.length > 1
        ? ['natter-memory is measured at the first size only (same connection code as natter-sqlite).']
        : [],
    systems: {},
  };
  for (const name of systems) {
    out.systems[name] = {};
    for (const size of sizesOf(name)) {
      progress(`${name}: ${size} connections`);
      out.systems[name][size] = await timed(measureIdle, name, size, progress, out.params.connectDeadlineMs);
    }
  }
  return out;
}

async function measureIdle(name, size, progress, deadlineMs) {
  const serverCount = Math.ceil(size / PER_SERVER);
  const loadCount = Math.ceil(size / PER_LOAD);
  let system;
  let loads = [];
  try {
    system = await startSystem(name, { users: Math.ceil(size / serverCount) }, serverCount, `idle${size}`);
    loads = await startLoads(loadCount);
    const baseline = await stats(system.servers);
    progress(`${name}: connecting ${size} (${serverCount} server, ${loadCount} load processes)`);
    const connect = await connectAll(loads, system.client, system.users.slice(0, size), deadlineMs);
    await sleep(1_000); // lets handshake garbage and timers settle before the heap is measured
    const held = await stats(system.servers);
    const n = Math.max(1, held.connections);
    return {
      connections: held.connections,
      serverProcesses: serverCount,
      ...connect,
      rssPerConnBytes: Math.round((held.rss - baseline.rss) / n),
      heapPerConnBytes: Math.round((held.heapUsed - baseline.heapUsed) / n),
      externalPerConnBytes: Math.round((held.external - baseline.external) / n),
      serverRssMB: round(held.rss / 2 ** 20, 1),
      ...(connect.notTried
        ? {
            shortfall: `held ${held.connections} of ${size}: the ${deadlineMs / 1000} s connect deadline passed at ${connect.connectsPerSec} connects/s on this machine`,
          }
        : {}),
    };
  } catch (err) {
    return { error: String(err?.message ?? err).slice(0, 500) };
  } finally {
    await stopAll([...(system?.servers ?? []), ...loads]);
  }
}

/** Sums the memory figures of several server processes, after each forced a GC. */
async function stats(servers) {
  const all = await Promise.all(servers.map((s) => s.call('stats', { collect: true })));
  const total = { rss: 0, heapUsed: 0, external: 0, connections: 0 };
  for (const s of all) for (const key of Object.keys(total)) total[key] += s[key];
  return total;
}
