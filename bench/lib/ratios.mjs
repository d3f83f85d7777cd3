/**
 * Which figures are compared, and the goals of issues #6 and #8. A ratio is natter's figure divided by the
 * baseline's, from the same run: on a shared, noisy machine only these survive, absolute numbers do not.
 */
const get = (obj, path) => path.split('.').reduce((o, k) => (o == null ? undefined : o[k]), obj);

/** [scenario, label, path inside a system's figures, 'lower' | 'higher' is better] */
export function metricsOf(results) {
  const out = [];
  const sizes = results.scenarios.idle?.params?.sizes ?? [];
  for (const size of sizes) {
    out.push(['idle', `idle ${size / 1000}k: RSS per connection`, `${size}.rssPerConnBytes`, 'lower']);
    out.push(['idle', `idle ${size / 1000}k: heap per connection`, `${size}.heapPerConnBytes`, 'lower']);
    out.push(['idle', `idle ${size / 1000}k: connects/s`, `${size}.connectsPerSec`, 'higher']);
  }
  out.push(['direct', '1-1: server CPU per msg @5k/s', 'rate.serverCpuUsPerMsg', 'lower']);
  out.push(['direct', '1-1: server CPU per msg @max', 'max.serverCpuUsPerMsg', 'lower']);
  out.push(['direct', '1-1: max delivered msg/s', 'max.deliveredPerSec', 'higher']);
  out.push(['direct', '1-1: msg/s per server core', 'max.perCorePerSec', 'higher']);
  out.push(['direct', '1-1: p99 @5k/s', 'rate.latencyMs.p99', 'lower']);
  out.push(['group', 'group: delivered msg/s', 'max.deliveredPerSec', 'higher']);
  out.push(['group', 'group: deliveries/s per server core', 'max.perCorePerSec', 'higher']);
  out.push(['group', 'group: server CPU per delivery', 'max.serverCpuUsPerMsg', 'lower']);
  out.push(['group', 'group: p99 @100 sends/s', 'rate.latencyMs.p99', 'lower']);
  out.push(['catchup', 'catch-up msgs/s', 'msgsPerSec', 'higher']);
  return out.filter(([scenario]) => results.scenarios[scenario]?.systems);
}

const ratio = (a, b) =>
  typeof a === 'number' && typeof b === 'number' && b > 0 ? Math.round((a / b) * 1000) / 1000 : null;

/** Every metric with natter's value and its ratios to the bare ws relay and to Socket.IO. */
export function computeRatios(results) {
  const rows = [];
  for (const [scenario, label, path, better] of metricsOf(results)) {
    const systems = results.scenarios[scenario].systems;
    const ws = get(systems.ws, path);
    const socketio = get(systems.socketio, path);
    for (const natter of ['natter-sqlite', 'natter-memory']) {
      if (!systems[natter]) continue;
      const value = get(systems[natter], path);
      rows.push({
        scenario,
        label,
        natter,
        better,
        value,
        ws,
        socketio,
        vsWs: ratio(value, ws),
        vsSocketio: ratio(value, socketio),
      });
    }
  }
  const storage = results.scenarios.storage?.systems;
  if (storage) {
    for (const [adapter, raw] of [
      ['sqlite-full', 'raw-sqlite full'],
      ['sqlite-normal', 'raw-sqlite normal'],
    ]) {
      for (const senders of [1, 100]) {
        const value = storage[`${adapter} x${senders}`]?.appendsPerSec;
        rows.push({
          scenario: 'storage',
          label: `${adapter} x${senders} appends/s vs raw`,
          natter: adapter,
          better: 'higher',
          value,
          raw: storage[raw]?.appendsPerSec,
          vsRaw: ratio(value, storage[raw]?.appendsPerSec),
          // The same rows an append writes (message, 2 sync entries, idempotency key) as plain inserts.
          rawRows: storage[raw.replace('raw-sqlite', 'raw-sqlite rows')]?.appendsPerSec,
          vsRawRows: ratio(value, storage[raw.replace('raw-sqlite', 'raw-sqlite rows')]?.appendsPerSec),
        });
      }
    }
  }
  if (storage) rows.push(...shardedStorageRatios(storage));
  rows.push(...crossNodeRatios(results));
  return rows;
}

/**
 * Issue #19, same run: PostgreSQL stores ÷ SQLite-full at 100 senders, and the sharded store on three
 * servers ÷ on one (appends acknowledged, and appends fanned out until the outbox was empty).
 */
function shardedStorageRatios(storage) {
  const rows = [];
  const full = storage['sqlite-full x100']?.appendsPerSec;
  for (const adapter of ['postgres', 'sharded-1', 'sharded-3']) {
    const value = storage[`${adapter} x100`]?.appendsPerSec;
    if (value === undefined && !storage[`${adapter} x100`]) continue;
    rows.push({
      scenario: 'storage',
      label: `${adapter} x100 appends/s ÷ sqlite-full x100`,
      natter: adapter,
      better: 'higher',
      value,
      raw: full,
      vsRaw: ratio(value, full),
    });
  }
  for (const [field, what] of [
    ['appendsPerSec', 'appends/s'],
    ['fannedOutPerSec', 'fanned out/s'],
  ]) {
    const one = storage['sharded-1 x100']?.[field];
    const three = storage['sharded-3 x100']?.[field];
    if (one === undefined && three === undefined) continue;
    rows.push({
      scenario: 'storage',
      label: `sharded x100 ${what}: 3 servers ÷ 1 server`,
      natter: 'sharded-3',
      better: 'higher',
      value: three,
      raw: one,
      vsRaw: ratio(three, one),
    });
  }
  return rows;
}

/**
 * Scenario 6 (issue #8): per broker, the 3-node figure divided by the 1-node figure of the same run at
 * the same offered load (p99 latency and server CPU per delivered message, summed over the nodes).
 */
function crossNodeRatios(results) {
  const configs = results.scenarios.crossNode?.systems;
  if (!configs) return [];
  const rows = [];
  for (const [broker, store] of [
    ['redis', ''],
    ['nats', ''],
    ['redis', ', sharded-1'],
    ['redis', ', sharded-3'],
  ]) {
    // A skipped or failed configuration still gets its rows (no value: the goal shows n/a).
    if (!configs[`${broker} 1 node${store}`] && !configs[`${broker} 3 nodes${store}`]) continue;
    const one = configs[`${broker} 1 node${store}`]?.rate;
    const three = configs[`${broker} 3 nodes${store}`]?.rate;
    for (const [label, path] of [
      ['p99', 'latencyMs.p99'],
      ['CPU/msg', 'serverCpuUsPerMsg'],
    ]) {
      const oneNode = get(one, path);
      const threeNodes = get(three, path);
      rows.push({
        scenario: 'crossNode',
        label: `cross-node ${broker}${store}: ${label} 3 nodes ÷ 1 node`,
        natter: `natter-${store ? store.slice(2) : 'postgres'}+${broker}`,
        broker,
        better: 'lower',
        oneNode,
        threeNodes,
        value: ratio(threeNodes, oneNode),
      });
    }
  }
  return rows;
}

/** The goals of issues #6 and #8, each evaluated on this run's ratios. `met` is null when a figure is missing. */
export function evaluateGoals(results, rows) {
  const atMost = (limit) => (v) => v <= limit;
  const atLeast = (limit) => (v) => v >= limit;
  // [goal, metric label, field of the ratio row, test, target as shown]
  const checks = [
    ['1-1: CPU/msg at most 1.5x bare ws', '1-1: server CPU per msg @5k/s', 'vsWs', atMost(1.5), '<= 1.5'],
    ['1-1: throughput at least 2x Socket.IO', '1-1: max delivered msg/s', 'vsSocketio', atLeast(2), '>= 2'],
    [
      '1-1: throughput per server core at least 2x Socket.IO',
      '1-1: msg/s per server core',
      'vsSocketio',
      atLeast(2),
      '>= 2',
    ],
    ['1-1: p99 at 5k msg/s at most 10 ms', '1-1: p99 @5k/s', 'value', atMost(10), '<= 10 ms'],
    ['group: at least 80% of bare ws deliveries/s', 'group: delivered msg/s', 'vsWs', atLeast(0.8), '>= 0.8'],
    [
      'group: deliveries per server core at least 80% of bare ws',
      'group: deliveries/s per server core',
      'vsWs',
      atLeast(0.8),
      '>= 0.8',
    ],
  ];
  checks.push(['catch-up: at least 20,000 msgs/s', 'catch-up msgs/s', 'value', atLeast(20_000), '>= 20000']);
  const goals = [];
  for (const natter of ['natter-sqlite', 'natter-memory']) {
    if (!rows.some((r) => r.natter === natter)) continue;
    for (const [goal, label, field, test, target] of [...checks, ...idleChecks(results, rows, natter)]) {
      const value = rows.find((r) => r.label === label && r.natter === natter)?.[field] ?? null;
      goals.push({ goal, system: natter, value, target, met: value === null ? null : test(value) });
    }
  }
  // Issue #8: at the same load, cross-node p99 (3 nodes) at most twice the single-node p99.
  for (const row of rows.filter(
    (r) => r.scenario === 'crossNode' && r.label.endsWith('p99 3 nodes ÷ 1 node'),
  )) {
    const value = row.value ?? null;
    goals.push({
      goal: 'cross-node p99 at most 2x single-node',
      system: row.natter,
      value,
      target: '<= 2',
      met: value === null ? null : value <= 2,
    });
  }
  // Issue #19: PostgreSQL at least 0.5x SQLite-full's appends/s (100 senders); the sharded store on three
  // servers at least 2x its one-server rate (when the load generator is not the limit: see processCpuUtil);
  // node CPU per cross-node message at most 0.5 ms.
  for (const [goal, label, target, test] of [
    [
      'PostgreSQL appends/s at least 0.5x SQLite-full',
      'postgres x100 appends/s ÷ sqlite-full x100',
      '>= 0.5',
      atLeast(0.5),
    ],
    [
      'sharded store appends/s at least 0.5x SQLite-full',
      'sharded-3 x100 appends/s ÷ sqlite-full x100',
      '>= 0.5',
      atLeast(0.5),
    ],
    [
      'sharded store: 3 servers at least 2x 1 server',
      'sharded x100 appends/s: 3 servers ÷ 1 server',
      '>= 2',
      atLeast(2),
    ],
  ]) {
    const row = rows.find((r) => r.label === label);
    if (!row) continue;
    const value = row.vsRaw ?? null;
    goals.push({ goal, system: row.natter, value, target, met: value === null ? null : test(value) });
  }
  for (const [name, r] of Object.entries(results.scenarios.crossNode?.systems ?? {})) {
    if (r.nodes !== 3) continue;
    for (const [figures, at] of [
      [r.rate, ''],
      [r.busy, r.busy ? `, at ${r.busy.sendsPerSec} sends/s` : ''],
    ]) {
      const value = figures?.serverCpuUsPerMsg;
      if (value === undefined) continue;
      goals.push({
        goal: `node CPU per cross-node message at most 0.5 ms (all 3 nodes${at || `, at ${figures.sendsPerSec} sends/s`})`,
        system: name,
        value: value / 1000,
        target: '<= 0.5 ms',
        met: value / 1000 <= 0.5,
      });
    }
  }
  return goals;
}

/** Idle goals at the largest size this natter system was measured at (memory store: the first size only). */
function idleChecks(results, rows, natter) {
  const sizes = [...(results.scenarios.idle?.params?.sizes ?? [])].reverse();
  const largest = sizes.find((size) =>
    rows.some(
      (r) => r.natter === natter && r.label === `idle ${size / 1000}k: RSS per connection` && r.value != null,
    ),
  );
  if (largest === undefined) return [];
  const k = `idle ${largest / 1000}k`;
  const atMost = (limit) => (v) => v <= limit;
  return [
    [
      `${k}: memory (RSS)/conn at most 1.5x bare ws`,
      `${k}: RSS per connection`,
      'vsWs',
      atMost(1.5),
      '<= 1.5',
    ],
    [
      `${k}: memory (RSS)/conn at most half of Socket.IO`,
      `${k}: RSS per connection`,
      'vsSocketio',
      atMost(0.5),
      '<= 0.5',
    ],
    // RSS moves with allocator and heap-reservation noise; the heap after GC is the steadier figure.
    [`${k}: heap/conn at most 1.5x bare ws`, `${k}: heap per connection`, 'vsWs', atMost(1.5), '<= 1.5'],
    [
      `${k}: heap/conn at most half of Socket.IO`,
      `${k}: heap per connection`,
      'vsSocketio',
      atMost(0.5),
      '<= 0.5',
    ],
  ];
}
