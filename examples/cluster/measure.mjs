#!/usr/bin/env node
/**
 * Cross-node delivery latency and per-message CPU of natter chat nodes, with 1 node and with 3 nodes, over
 * Redis and over NATS, at the same load; plus memory per idle connection. Chat nodes are this example's
 * dist/node.js processes (run `npm run build` first, or `npm run measure`). Every loop is bounded; every
 * child is killed on exit. Prints a Markdown table and writes results/latest.json.
 *
 *   node measure.mjs [--pairs 20] [--rate 10] [--seconds 15] [--connections 2000] [--only redis|nats] [--repeat 1]
 *
 * With --repeat N the four configurations run N times, interleaved, and the table shows the median run of
 * each (by p99), so a burst of load from something else on the machine does not decide the result alone.
 *
 * With 3 nodes every pair's sender and receiver sit on different nodes, so every message crosses the
 * broker; with 1 node the same load runs through one node (broker configured, delivery local).
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, loadavg, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { msgpackCodec, SUBPROTOCOL_MSGPACK } from '@natter/protocol';
import WebSocket from 'ws';

const { values: args } = parseArgs({
  options: {
    pairs: { type: 'string', default: '20' },
    rate: { type: 'string', default: '10' },
    seconds: { type: 'string', default: '15' },
    connections: { type: 'string', default: '2000' },
    only: { type: 'string' },
    repeat: { type: 'string', default: '1' },
  },
});
const PAIRS = Number(args.pairs);
const RATE = Number(args.rate); // sends per second per sender
const SECONDS = Number(args.seconds);
const CONNECTIONS = Number(args.connections);
const REPEAT = Math.max(1, Number(args.repeat));
const NODE_SCRIPT = fileURLToPath(new URL('./dist/node.js', import.meta.url));
const SECRET = randomBytes(48).toString('base64url');
const RUN = `m${Date.now().toString(36)}`;
const children = new Set();

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** Starts one chat node process and waits for its health endpoint. */
async function startNode(port, env) {
  const child = spawn(process.execPath, [NODE_SCRIPT], {
    env: {
      ...process.env,
      ...env,
      NATTER_ROLE: 'chat',
      NATTER_PORT: String(port),
      NATTER_TOKEN_SECRET: SECRET,
      NATTER_LOG_LEVEL: 'error',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  children.add(child);
  child.on('exit', () => children.delete(child));
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 200; i++) {
    if (child.exitCode !== null) throw new Error(`node on ${port} exited with ${child.exitCode}`);
    try {
      if ((await fetch(`${url}/healthz`)).ok) return { child, url, wsUrl: `ws://127.0.0.1:${port}/v1/ws` };
    } catch {}
    await sleep(100);
  }
  throw new Error(`node on ${port} did not start`);
}

async function stopNodes(nodes) {
  await Promise.all(
    nodes.map(
      ({ child }) =>
        new Promise((resolve) => {
          if (child.exitCode !== null) return resolve();
          child.once('exit', resolve);
          child.kill('SIGTERM');
          setTimeout(() => child.kill('SIGKILL'), 8_000).unref();
        }),
    ),
  );
}

async function post(url, path, body, token) {
  const res = await fetch(`${url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
  return res.json();
}

async function signup(url, name) {
  const body = await post(url, '/v1/auth/signup', { username: name, password: 'correct horse battery' });
  return { id: body.user.id, token: body.accessToken };
}

/** A minimal protocol client: hello, send, and a callback per live entry. */
function connect(wsUrl, token, onEntry) {
  return new Promise((resolve, reject) => {
    const url = new URL(wsUrl);
    url.searchParams.set('access_token', token);
    const ws = new WebSocket(url, SUBPROTOCOL_MSGPACK);
    let rid = 1;
    const client = {
      ws,
      send(channelId, clientMsgId, text) {
        ws.send(msgpackCodec.encode({ t: 'send', rid: rid++, channelId, clientMsgId, text }));
      },
    };
    ws.on('message', (data) => {
      const frame = msgpackCodec.decode(data, true);
      if (frame.t === 'hello') resolve(client);
      else if (frame.t === 'msg') onEntry?.(frame.entry);
    });
    ws.once('error', reject);
  });
}

const metricsOf = async (url) => {
  const text = await (await fetch(`${url}/metrics`)).text();
  const read = (name) => Number(new RegExp(`^\\w*${name} (\\S+)$`, 'm').exec(text)?.[1] ?? Number.NaN);
  return {
    cpu: read('process_cpu_seconds_total'),
    rss: read('process_resident_memory_bytes'),
    heap: read('nodejs_heap_size_used_bytes'),
  };
};

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

/** One configuration: `nodeCount` chat nodes over `broker`, PAIRS pairs sending RATE msg/s each. */
async function latencyRun(broker, nodeCount, round = 0) {
  const env = {
    NATTER_BROKER: broker,
    NATTER_PREFIX: `${RUN}-${broker}-${nodeCount}-${round}`,
    NATTER_PG_SCHEMA: `natter_measure_${RUN}`,
  };
  const nodes = [];
  try {
    for (let i = 0; i < nodeCount; i++) nodes.push(await startNode(await freePort(), env));
    const api = nodes[0].url;
    const latencies = [];
    const sentAt = new Map();
    const pairs = [];
    for (let i = 0; i < PAIRS; i++) {
      const a = await signup(api, `${env.NATTER_PREFIX}a${i}`.replace(/[^A-Za-z0-9_]/g, '_'));
      const b = await signup(api, `${env.NATTER_PREFIX}b${i}`.replace(/[^A-Za-z0-9_]/g, '_'));
      const { channel } = await post(api, '/v1/channels/direct', { userId: b.id }, a.token);
      // Sender and receiver on different nodes whenever there is more than one.
      const sender = await connect(nodes[i % nodeCount].wsUrl, a.token);
      await connect(nodes[(i + 1) % nodeCount].wsUrl, b.token, (entry) => {
        const t = sentAt.get(entry.message.clientMsgId);
        if (t !== undefined) {
          latencies.push(performance.now() - t);
          sentAt.delete(entry.message.clientMsgId);
        }
      });
      pairs.push({ sender, channel: channel.id });
    }
    let counter = 0;
    const tick = (measure) => {
      for (const { sender, channel } of pairs) {
        const id = `${RUN}-${++counter}`;
        if (measure) sentAt.set(id, performance.now());
        sender.send(channel, id, 'x'.repeat(40));
      }
    };
    // Warm up for two seconds, then measure.
    for (let i = 0; i < 2 * RATE; i++) {
      tick(false);
      await sleep(1000 / RATE);
    }
    await sleep(500);
    const before = await Promise.all(nodes.map((n) => metricsOf(n.url)));
    const started = performance.now();
    const total = SECONDS * RATE;
    for (let i = 0; i < total; i++) {
      const due = started + (i * 1000) / RATE;
      const wait = due - performance.now();
      if (wait > 0) await sleep(wait);
      tick(true);
    }
    const deadline = Date.now() + 10_000;
    while (sentAt.size > 0 && Date.now() < deadline) await sleep(50);
    const after = await Promise.all(nodes.map((n) => metricsOf(n.url)));
    const sent = total * PAIRS;
    const cpuSeconds = after.reduce((s, m, i) => s + (m.cpu - before[i].cpu), 0);
    const sorted = latencies.sort((x, y) => x - y);
    for (const { sender } of pairs) sender.ws.terminate();
    return {
      broker,
      nodes: nodeCount,
      sent,
      delivered: latencies.length,
      lost: sentAt.size,
      ratePerSec: PAIRS * RATE,
      p50: percentile(sorted, 50),
      p99: percentile(sorted, 99),
      p999: percentile(sorted, 99.9),
      max: sorted.at(-1),
      cpuUsPerMsg: (cpuSeconds * 1e6) / sent,
    };
  } finally {
    await stopNodes(nodes);
  }
}

/** Memory of one node holding CONNECTIONS idle sessions. */
async function memoryRun() {
  const env = {
    NATTER_BROKER: 'redis',
    NATTER_PREFIX: `${RUN}-mem`,
    NATTER_PG_SCHEMA: `natter_measure_${RUN}`,
  };
  const node = await startNode(await freePort(), env);
  const sockets = [];
  try {
    const users = [];
    for (let i = 0; i < 10; i++) users.push(await signup(node.url, `${RUN}mem${i}`));
    await sleep(1_000);
    const before = await metricsOf(node.url);
    for (let i = 0; i < CONNECTIONS; i++) {
      sockets.push((await connect(node.wsUrl, users[i % users.length].token)).ws);
    }
    await sleep(2_000);
    const after = await metricsOf(node.url);
    return {
      connections: CONNECTIONS,
      rssBytesPerConnection: (after.rss - before.rss) / CONNECTIONS,
      heapBytesPerConnection: (after.heap - before.heap) / CONNECTIONS,
    };
  } finally {
    for (const s of sockets) s.terminate();
    await stopNodes([node]);
  }
}

/**
 * PostgreSQL bytes per stored message and per sync-log entry (tables with their indexes), from what the
 * runs wrote; then drops the run's schema.
 */
async function storageFiguresAndDrop() {
  if ((process.env.NATTER_STORE ?? 'postgres') !== 'postgres') return undefined;
  const { default: pg } = await import('pg');
  const client = new pg.Client({
    connectionString: process.env.NATTER_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
  });
  const schema = `natter_measure_${RUN}`;
  await client.connect();
  try {
    await client.query(`VACUUM ANALYZE "${schema}".messages, "${schema}".sync_log, "${schema}".client_msgs`);
    const sizes = await client.query(
      `SELECT c.relname AS name, pg_total_relation_size(c.oid)::bigint AS bytes
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = $1 AND c.relkind = 'r'`,
      [schema],
    );
    const bytes = Object.fromEntries(sizes.rows.map((r) => [r.name, Number(r.bytes)]));
    const count = async (table) =>
      Number((await client.query(`SELECT count(*) AS n FROM "${schema}".${table}`)).rows[0].n);
    const messages = await count('messages');
    const entries = await count('sync_log');
    return {
      messages,
      syncEntries: entries,
      bytesPerMessage: ((bytes.messages ?? 0) + (bytes.client_msgs ?? 0)) / messages,
      bytesPerSyncEntry: (bytes.sync_log ?? 0) / entries,
    };
  } finally {
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => undefined);
    await client.end();
  }
}

const killAll = () => {
  for (const child of children) child.kill('SIGKILL');
};
process.on('exit', killAll);
process.on('SIGINT', () => process.exit(130));

async function main() {
  const machine = {
    date: new Date().toISOString(),
    cpus: `${cpus().length}× ${cpus()[0]?.model.trim()}`,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    loadAvgAtStart: loadavg()
      .map((l) => l.toFixed(2))
      .join(' '),
    store: process.env.NATTER_STORE ?? 'postgres',
  };
  const brokers = args.only ? [args.only] : ['redis', 'nats'];
  const all = [];
  for (let r = 0; r < REPEAT; r++) {
    for (const broker of brokers) {
      for (const n of [1, 3]) {
        process.stderr.write(`measuring ${broker}, ${n} node(s), run ${r + 1}/${REPEAT}...\n`);
        all.push(await latencyRun(broker, n, r));
      }
    }
  }
  const runs = [];
  for (const broker of brokers) {
    for (const n of [1, 3]) {
      const mine = all.filter((x) => x.broker === broker && x.nodes === n).sort((x, y) => x.p99 - y.p99);
      runs.push({
        ...mine[Math.floor((mine.length - 1) / 2)],
        p99OfRuns: mine.map((x) => Math.round(x.p99)),
      });
    }
  }
  process.stderr.write(`measuring memory per connection (${CONNECTIONS})...\n`);
  const memory = await memoryRun();
  const storage = await storageFiguresAndDrop().catch((err) => {
    process.stderr.write(`storage figures failed: ${err}\n`);
    return undefined;
  });

  const ms = (v) => `${v.toFixed(1)} ms`;
  const lines = [
    `# natter cross-node delivery (${machine.date})`,
    '',
    `${machine.cpus} · ${machine.memoryGiB} GiB · node ${machine.node} · load avg at start ${machine.loadAvgAtStart} · store ${machine.store}`,
    `Load: ${PAIRS} pairs × ${RATE} msg/s = ${PAIRS * RATE} msg/s for ${SECONDS} s, 40-byte texts; chat nodes, broker, store and load generator share the machine. Median of ${REPEAT} interleaved run(s) by p99.`,
    '',
    '| broker | nodes | delivered | lost | p50 | p99 | p99.9 | max | node CPU µs/msg | p99 ÷ 1-node p99 | p99 of every run |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const r of runs) {
    const base = runs.find((x) => x.broker === r.broker && x.nodes === 1);
    lines.push(
      `| ${r.broker} | ${r.nodes} | ${r.delivered}/${r.sent} | ${r.lost} | ${ms(r.p50)} | ${ms(r.p99)} | ${ms(r.p999)} | ${ms(r.max)} | ${r.cpuUsPerMsg.toFixed(0)} | ${(r.p99 / base.p99).toFixed(2)} | ${r.p99OfRuns.join(', ')} ms |`,
    );
  }
  lines.push(
    '',
    `Memory per idle connection (${memory.connections} sessions on one node): RSS ${(memory.rssBytesPerConnection / 1024).toFixed(1)} KiB, JS heap ${(memory.heapBytesPerConnection / 1024).toFixed(1)} KiB.`,
  );
  if (storage) {
    lines.push(
      `PostgreSQL, 40-byte texts, tables with indexes: ${storage.bytesPerMessage.toFixed(0)} bytes per message (messages + client_msgs), ${storage.bytesPerSyncEntry.toFixed(0)} bytes per sync-log entry (${storage.messages} messages, ${storage.syncEntries} entries).`,
    );
  }
  const report = lines.join('\n');
  process.stdout.write(`${report}\n`);
  const dir = fileURLToPath(new URL('./results/', import.meta.url));
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    `${dir}latest.json`,
    `${JSON.stringify({ machine, params: { PAIRS, RATE, SECONDS, REPEAT }, runs, all, memory, storage }, null, 2)}\n`,
  );
  writeFileSync(`${dir}latest.md`, `${report}\n`);
}

main()
  .then(() => process.exit(0))
  .catch((err) => {
    process.stderr.write(`${err?.stack ?? err}\n`);
    process.exit(1);
  });
