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
/** A fresh PostgreSQL schema per run, dropped when the run ends. */
const pgSchema = `bench_${process.pid}_${Date.now().toString(36)}`;

async function dropPgSchema() {
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS ${pgSchema} CASCADE`);
  } finally {
    await client.end();
  }
}

function openAdapter(adapter) {
  if (adapter === 'memory') return createMemoryStorage();
  if (adapter === 'level') return createLevelStorage({ path: join(dir, 'level'), sync: true });
  if (adapter === 'postgres') return createPostgresStorage({ connectionString: PG_URL, schema: pgSchema });
  return createSqliteStorage({
    path: join(dir, 'bench.db'),
    synchronous: adapter === 'sqlite-normal' ? 'normal' : 'full',
  });
}

async function adapterRun(args) {
  try {
    return await measureAdapter(args);
  } finally {
    if (args.adapter === 'postgres') await dropPgSchema().catch(() => undefined);
  }
}

async function measureAdapter({ adapter, senders, count, maxMs, warmup, path = 'append' }) {
  const storage = openAdapter(adapter);
  try {
    await storage.open();
  } catch (err) {
    if (adapter !== 'postgres') throw err;
    return { skipped: `PostgreSQL unreachable at ${PG_URL} (set NATTER_PG_URL): ${err?.message ?? err}` };
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
  const cpu0 = processStats().cpuMicros;
  const started = now();
  const appended = await loop(count, started + maxMs);
  const seconds = (now() - started) / 1000;
  const cpu = processStats().cpuMicros - cpu0;
  await storage.close();
  return { appended, seconds, appendsPerSec: Math.round(appended / seconds), cpuUsPerAppend: cpu / appended };
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
  const storage = openAdapter(adapter);
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
