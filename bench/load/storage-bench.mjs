import { join } from 'node:path';
import { DEFAULT_LIMITS, newId } from '@natter/protocol';
import { ChatService } from '@natter/server-core/internals';
import { createLevelStorage } from '@natter/storage-level';
import { createMemoryStorage } from '@natter/storage-memory';
import { createPostgresStorage } from '@natter/storage-postgres';
import { createSqliteStorage } from '@natter/storage-sqlite';
import Database from 'better-sqlite3';
import pg from 'pg';
import { dieOnError, now, processStats, scratchDir, serve } from '../lib/ipc.mjs';
import { inBatches } from '../systems/setup-plan.mjs';

/**
 * Scenario 5 in its own process: appends/s of one storage adapter through the port the server uses
 * (`storage.chat.write(tx => tx.appendMessage(...))`), or whole sends through `ChatService.sendMessage`
 * (`path: 'send'`), with 1 or N concurrent senders over 1,000 two-member channels, against raw
 * better-sqlite3 batched inserts of (channel_id, seq) rows as the limit.
 */
dieOnError();
const CHANNELS = 1_000;
const dir = scratchDir('store-');

const TEXT = 'lorem ipsum dolor sit amet, consectetur adipiscing elit sed do';
const randomChannel = () => Math.floor(Math.random() * CHANNELS);

const PG_URL = process.env.NATTER_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
/** The sharded store's servers, as the tests read them (tests/cluster/helpers/env.ts), same default. */
const PG_SHARD_URLS = (
  process.env.NATTER_PG_SHARD_URLS ??
  [5433, 5434, 5435].map((port) => `postgres://postgres@127.0.0.1:${port}/test`).join(',')
)
  .split(',')
  .map((url) => url.trim())
  .filter(Boolean);
/** `sharded-1`: the sharded store on the first shard server alone; `sharded-3`: on all three. */
const SHARDED = { 'sharded-1': PG_SHARD_URLS.slice(0, 1), 'sharded-3': PG_SHARD_URLS.slice(0, 3) };
const isPostgres = (adapter) => adapter === 'postgres' || adapter in SHARDED;
/** The servers an adapter writes. */
const serversOf = (adapter) => (adapter === 'postgres' ? [PG_URL] : (SHARDED[adapter] ?? []));
/** A fresh PostgreSQL schema per run (on every server it uses), dropped when the run ends. */
const pgSchema = `bench_${process.pid}_${Date.now().toString(36)}`;

async function onEach(urls, sql) {
  return Promise.all(
    urls.map(async (url) => {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        return (await client.query(sql)).rows;
      } finally {
        await client.end();
      }
    }),
  );
}

const dropPgSchema = (adapter) => onEach(serversOf(adapter), `DROP SCHEMA IF EXISTS ${pgSchema} CASCADE`);

/** Outbox rows still to fan out, summed over the sharded store's servers. */
async function outboxBacklog(adapter) {
  const counts = await onEach(serversOf(adapter), `SELECT count(*)::int AS n FROM ${pgSchema}.shard_outbox`);
  return counts.reduce((n, rows) => n + (rows[0]?.n ?? 0), 0);
}

async function openAdapter(adapter) {
  if (adapter === 'memory') return createMemoryStorage();
  if (adapter === 'level') return createLevelStorage({ path: join(dir, 'level'), sync: true });
  if (adapter === 'postgres') return createPostgresStorage({ connectionString: PG_URL, schema: pgSchema });
  if (adapter in SHARDED) {
    // Imported here: a checkout without the package still runs every other configuration.
    const { createShardedPostgresStorage } = await import('@natter/storage-postgres-sharded');
    return createShardedPostgresStorage({ shards: SHARDED[adapter], schema: pgSchema });
  }
  return createSqliteStorage({
    path: join(dir, 'bench.db'),
    synchronous: adapter === 'sqlite-normal' ? 'normal' : 'full',
  });
}

async function adapterRun(args) {
  try {
    return await measureAdapter(args);
  } finally {
    if (isPostgres(args.adapter)) await dropPgSchema(args.adapter).catch(() => undefined);
  }
}

async function measureAdapter({ adapter, senders, count, maxMs, warmup, path = 'append' }) {
  let storage;
  try {
    storage = await openAdapter(adapter);
    await storage.open();
  } catch (err) {
    if (!isPostgres(adapter)) throw err;
    const where = serversOf(adapter).join(', ');
    return { skipped: `${adapter} unavailable at ${where}: ${String(err?.message ?? err).slice(0, 300)}` };
  }
  // Channels are opened through ChatService, so the rows are whatever the current schema wants.
  const service = new ChatService({
    chat: storage.chat,
    accounts: storage.accounts,
    limits: DEFAULT_LIMITS,
    sink: { deliver() {} },
  });
  const users = Array.from({ length: 2 * CHANNELS }, (_, i) => `u${i}`);
  await inBatches(users, 500, (id) =>
    storage.accounts.createUser({
      id,
      username: id,
      displayName: id,
      passwordHash: null,
      createdAt: Date.now(),
    }),
  );
  const channels = await inBatches(
    Array.from({ length: CHANNELS }, (_, i) => i),
    250,
    async (i) => {
      const members = [users[2 * i], users[2 * i + 1]];
      const channel = await service.openDirect(members[0], members[1]);
      return { id: channel.id, members };
    },
  );
  let serial = 0;
  // `send`: what a chat send costs the store, through the server's own path (ChatService.sendMessage: one
  // write with the idempotency and membership checks, or the store's appendChecked where it has one).
  const sendOne = () => {
    const c = channels[randomChannel()];
    return service.sendMessage(c.members[0], { channelId: c.id, clientMsgId: `k${++serial}`, text: TEXT });
  };
  const appendOne = () => {
    const c = channels[randomChannel()];
    const message = {
      id: newId(),
      channelId: c.id,
      senderId: c.members[0],
      clientMsgId: `k${++serial}`,
      kind: 'text',
      text: TEXT,
      mentions: [],
      system: null,
      createdAt: Date.now(),
    };
    return storage.chat.write((tx) => tx.appendMessage(message, c.members), { channelId: c.id });
  };
  const loop = async (limit, deadline) => {
    let done = 0;
    const worker = async () => {
      while (done < limit && now() < deadline) {
        done++;
        await (path === 'send' ? sendOne() : appendOne());
      }
    };
    await Promise.all(Array.from({ length: senders }, worker));
    return done;
  };
  await loop(warmup, now() + maxMs);
  if (adapter in SHARDED) await drained(adapter, 60_000);
  const cpu0 = processStats().cpuMicros;
  const started = now();
  const appended = await loop(count, started + maxMs);
  const seconds = (now() - started) / 1000;
  // The sharded store acknowledges at the channel's commit; its fan-out (sync entries on the recipients'
  // servers) may still be running. Counting until the outbox is empty, CPU included, is the whole cost.
  const fanOutSeconds = adapter in SHARDED ? await drained(adapter, 120_000) : 0;
  const cpu = processStats().cpuMicros - cpu0;
  await storage.close();
  return {
    appended,
    seconds,
    appendsPerSec: Math.round(appended / seconds),
    cpuUsPerAppend: cpu / appended,
    // Share of one core the process used (the load and the adapter share it): near 1, the process is the limit.
    processCpuUtil: Math.round((cpu / 1e6 / (seconds + fanOutSeconds)) * 100) / 100,
    ...(adapter in SHARDED
      ? {
          fanOutSeconds: Math.round(fanOutSeconds * 100) / 100,
          fannedOutPerSec: Math.round(appended / (seconds + fanOutSeconds)),
        }
      : {}),
  };
}

/** Waits (bounded) until the sharded store's outbox is empty; answers how long that took, in seconds. */
async function drained(adapter, timeoutMs) {
  const started = now();
  while ((await outboxBacklog(adapter)) > 0) {
    if (now() - started > timeoutMs) throw new Error(`the outbox did not drain within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return (now() - started) / 1000;
}

/** Opens a fresh WAL database for a raw limit run. */
function rawDatabase(file, synchronous, schema) {
  const db = new Database(join(dir, file));
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${synchronous}`);
  db.exec(schema);
  return db;
}

/**
 * The raw limits' measuring loop: batches of `batch` appends on random channels (each with the next seq
 * of its channel), grouped by channel and seq as the adapter's group commit does, each batch one
 * transaction through `insertBatch`, until `count` rows or `maxMs`.
 */
function timeRawBatches(db, insertBatch, { count, maxMs, batch = 256 }) {
  const lastSeq = new Int32Array(CHANNELS);
  let serial = 0;
  const cpu0 = processStats().cpuMicros;
  const started = now();
  let inserted = 0;
  while (inserted < count && now() - started < maxMs) {
    const rows = [];
    for (let i = 0; i < batch; i++) {
      const c = randomChannel();
      rows.push({ c, seq: ++lastSeq[c], id: newId(), key: `k${++serial}`, at: Date.now() });
    }
    rows.sort((a, b) => a.c - b.c || a.seq - b.seq);
    insertBatch(rows);
    inserted += rows.length;
  }
  const seconds = (now() - started) / 1000;
  const cpu = processStats().cpuMicros - cpu0;
  db.close();
  return {
    appended: inserted,
    seconds,
    appendsPerSec: Math.round(inserted / seconds),
    cpuUsPerAppend: cpu / inserted,
  };
}

/** The limit: plain inserts into a (channel_id, seq) keyed table, 256 rows a transaction, grouped by channel. */
async function rawRun({ synchronous, ...loop }) {
  const db = rawDatabase(
    'raw.db',
    synchronous,
    `CREATE TABLE messages (channel_id TEXT NOT NULL, seq INTEGER NOT NULL, id TEXT NOT NULL,
      sender_id TEXT NOT NULL, text TEXT NOT NULL, created_at INTEGER NOT NULL, PRIMARY KEY (channel_id, seq)) WITHOUT ROWID`,
  );
  const insert = db.prepare('INSERT INTO messages VALUES (?, ?, ?, ?, ?, ?)');
  const insertBatch = db.transaction((rows) => {
    for (const r of rows) insert.run(`c${r.c}`, r.seq, r.id, `a${r.c}`, TEXT, r.at);
  });
  return timeRawBatches(db, insertBatch, loop);
}

/**
 * The limit for the same rows an append writes (see schema of @natter/storage-sqlite): the message,
 * one sync-log entry per member (2), the idempotency key; plain batched inserts, 256 appends a
 * transaction grouped by channel, positions counted in memory. No reads, no search index.
 */
async function rawRowsRun({ synchronous, ...loop }) {
  const db = rawDatabase(
    'raw-rows.db',
    synchronous,
    `CREATE TABLE messages (channel_id TEXT NOT NULL, seq INTEGER NOT NULL, id TEXT NOT NULL,
      sender_id TEXT NOT NULL, client_msg_id TEXT, kind TEXT NOT NULL, text TEXT NOT NULL, mentions TEXT NOT NULL,
      system TEXT, created_at INTEGER NOT NULL, PRIMARY KEY (channel_id, seq)) WITHOUT ROWID;
    CREATE TABLE sync_log (user_id TEXT NOT NULL, pos INTEGER NOT NULL, channel_id TEXT NOT NULL,
      seq INTEGER NOT NULL, PRIMARY KEY (user_id, pos)) WITHOUT ROWID;
    CREATE TABLE client_msgs (sender_id TEXT NOT NULL, client_msg_id TEXT NOT NULL, channel_id TEXT NOT NULL,
      seq INTEGER NOT NULL, sender_pos INTEGER NOT NULL, PRIMARY KEY (sender_id, client_msg_id)) WITHOUT ROWID;`,
  );
  const insertMessage = db.prepare('INSERT INTO messages VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)');
  const insertEntry = db.prepare('INSERT INTO sync_log VALUES (?, ?, ?, ?)');
  const insertKey = db.prepare('INSERT INTO client_msgs VALUES (?, ?, ?, ?, ?)');
  const channelIds = Array.from({ length: CHANNELS }, () => newId());
  const userIds = Array.from({ length: 2 * CHANNELS }, () => newId());
  const lastPos = new Int32Array(2 * CHANNELS);
  const insertBatch = db.transaction((rows) => {
    for (const r of rows) {
      const [sender, peer] = [2 * r.c, 2 * r.c + 1];
      insertMessage.run(channelIds[r.c], r.seq, r.id, userIds[sender], r.key, 'text', TEXT, '[]', null, r.at);
      const senderPos = ++lastPos[sender];
      insertEntry.run(userIds[sender], senderPos, channelIds[r.c], r.seq);
      insertEntry.run(userIds[peer], ++lastPos[peer], channelIds[r.c], r.seq);
      insertKey.run(userIds[sender], r.key, channelIds[r.c], r.seq, senderPos);
    }
  });
  return timeRawBatches(db, insertBatch, loop);
}

/**
 * Random access at scale: fills a store with `messages` messages over 1,000 channels (many appends per
 * write call, so filling is fast), then times `readHistory` for "latest 50" and "50 around a random
 * message" on random channels, through the same read path the server uses.
 */
async function readRun({ adapter, messages, queries }) {
  const storage = await openAdapter(adapter);
  await storage.open();
  const service = new ChatService({
    chat: storage.chat,
    accounts: storage.accounts,
    limits: DEFAULT_LIMITS,
    sink: { deliver() {} },
  });
  const users = Array.from({ length: 2 * CHANNELS }, (_, i) => `r${i}`);
  await inBatches(users, 500, (id) =>
    storage.accounts.createUser({
      id,
      username: id,
      displayName: id,
      passwordHash: null,
      createdAt: Date.now(),
    }),
  );
  const channels = await inBatches(
    Array.from({ length: CHANNELS }, (_, i) => i),
    250,
    async (i) => {
      const members = [users[2 * i], users[2 * i + 1]];
      return { id: (await service.openDirect(members[0], members[1])).id, members };
    },
  );
  const fillStarted = now();
  const perWrite = 500;
  for (let written = 0; written < messages; written += perWrite) {
    await storage.chat.write(async (tx) => {
      for (let i = 0; i < perWrite; i++) {
        const c = channels[(written + i) % CHANNELS];
        await tx.appendMessage(
          {
            id: newId(),
            channelId: c.id,
            senderId: c.members[0],
            clientMsgId: null,
            kind: 'text',
            text: TEXT,
            mentions: [],
            system: null,
            createdAt: Date.now(),
          },
          c.members,
        );
      }
    });
  }
  const fillSeconds = (now() - fillStarted) / 1000;
  const perChannel = Math.floor(messages / CHANNELS);
  const time = async (query) => {
    const samples = [];
    for (let i = 0; i < queries; i++) {
      const c = channels[randomChannel()];
      const t0 = now();
      await storage.chat.readHistory(c.id, query());
      samples.push(now() - t0);
    }
    samples.sort((a, b) => a - b);
    const at = (q) => samples[Math.min(samples.length - 1, Math.floor(q * samples.length))];
    return { p50Ms: at(0.5), p99Ms: at(0.99) };
  };
  const latest = await time(() => ({ limit: 50, minSeq: 1 }));
  const around = await time(() => ({
    around: 2 + Math.floor(Math.random() * perChannel),
    limit: 50,
    minSeq: 1,
  }));
  await storage.close();
  return { stored: messages, fillSeconds, latest50: latest, around50: around };
}

serve({ adapterRun, rawRun, rawRowsRun, readRun });
