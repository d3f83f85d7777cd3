import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ErrorCode } from '@natter/server-core';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createSqliteStorage } from '../src/index.js';
import { MIGRATIONS, migrate, SCHEMA_VERSION, schemaVersionOf } from '../src/schema/migrations.js';

let dir: string;
let file: string;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'natter-migrations-'));
  file = path.join(dir, 'natter.db');
});

afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Writes a store at schema version 1 by hand, as the first release would have. */
function createVersion1Store(): void {
  const db = new Database(file);
  migrate(db, 1);
  db.prepare(`INSERT INTO channels (id, kind, name, created_by, created_at, last_seq, direct_key)
              VALUES (?, 'group', ?, 'u_a', ?, ?, NULL)`).run('c_busy', 'busy', 1_000, 2);
  db.prepare(`INSERT INTO channels (id, kind, name, created_by, created_at, last_seq, direct_key)
              VALUES (?, 'group', ?, 'u_a', ?, 0, NULL)`).run('c_quiet', 'quiet', 5_000);
  const member = db.prepare(`INSERT INTO members (channel_id, user_id, role, joined_at, joined_seq, read_seq)
                             VALUES (?, 'u_a', 'admin', 0, 1, 0)`);
  member.run('c_busy');
  member.run('c_quiet');
  const message =
    db.prepare(`INSERT INTO messages (channel_id, seq, id, sender_id, client_msg_id, kind, text, mentions, system, created_at)
                              VALUES ('c_busy', ?, ?, 'u_a', NULL, 'text', ?, '[]', NULL, ?)`);
  message.run(1, 'm1', 'first', 2_000);
  message.run(2, 'm2', 'second', 9_000);
  db.prepare("INSERT INTO sync_heads (user_id, head) VALUES ('u_a', 2)").run();
  const entry = db.prepare(
    "INSERT INTO sync_log (user_id, pos, channel_id, seq) VALUES ('u_a', ?, 'c_busy', ?)",
  );
  entry.run(1, 1);
  entry.run(2, 2);
  db.close();
}

/**
 * Writes a store at schema version 2 (the last layout of contract v1) with raw SQL, as the code of
 * that release would have left it: messages with mentions and searchable text, but no
 * delivered_seq, mentions index or FTS table yet.
 */
function createVersion2Store(): void {
  const db = new Database(file);
  migrate(db, 2);
  expect(schemaVersionOf(db)).toBe(2);
  db.exec(`
    INSERT INTO channels (id, kind, name, created_by, created_at, last_seq, direct_key, last_activity_at)
      VALUES ('c1', 'group', 'one', 'u_a', 1000, 3, NULL, 4000);
    INSERT INTO members (channel_id, user_id, role, joined_at, joined_seq, read_seq)
      VALUES ('c1', 'u_a', 'admin', 1000, 1, 2), ('c1', 'u_b', 'member', 1000, 1, 0);
    INSERT INTO messages (channel_id, seq, id, sender_id, client_msg_id, kind, text, mentions, system, created_at)
      VALUES ('c1', 1, 'm1', 'u_a', NULL, 'system', '', '[]', '{"action":"renamed","actorId":"u_a","name":"one"}', 2000),
             ('c1', 2, 'm2', 'u_a', 'k2', 'text', 'Hello there, Bob', '["u_b","u_b"]', NULL, 3000),
             ('c1', 3, 'm3', 'u_b', NULL, 'text', 'hello back', '[]', NULL, 4000);
    INSERT INTO sync_heads (user_id, head) VALUES ('u_a', 3), ('u_b', 3);
    INSERT INTO sync_log (user_id, pos, channel_id, seq)
      VALUES ('u_a', 1, 'c1', 1), ('u_a', 2, 'c1', 2), ('u_a', 3, 'c1', 3),
             ('u_b', 1, 'c1', 1), ('u_b', 2, 'c1', 2), ('u_b', 3, 'c1', 3);
    INSERT INTO client_msgs (sender_id, client_msg_id, channel_id, seq, sender_pos) VALUES ('u_a', 'k2', 'c1', 2, 2);
  `);
  db.close();
}

describe('schema migrations', () => {
  it('are numbered in increasing order from 1', () => {
    // Steps developed on parallel branches take reserved numbers (issue #16 holds 8); renumbered at merge.
    const versions = MIGRATIONS.map((m) => m.version);
    expect(versions[0]).toBe(1);
    expect(versions.every((v, i) => Number.isInteger(v) && (i === 0 || v > versions[i - 1]!))).toBe(true);
    expect(SCHEMA_VERSION).toBe(versions.at(-1));
  });

  it('create a new store at the newest version, with an epoch', async () => {
    const storage = createSqliteStorage({ path: file });
    await storage.open();
    expect(storage.manifest.schemaVersion).toBe(SCHEMA_VERSION);
    expect(storage.chat.epoch()).toMatch(/^[0-9a-f]{32}$/);
    await storage.close();
    const db = new Database(file, { readonly: true });
    expect(schemaVersionOf(db)).toBe(SCHEMA_VERSION);
    db.close();
  });

  it('migrate an older store on open and keep its data', async () => {
    createVersion1Store();
    const storage = createSqliteStorage({ path: file });
    await storage.open();
    const db = new Database(file, { readonly: true });
    expect(schemaVersionOf(db)).toBe(SCHEMA_VERSION);
    db.close();

    // Version 2 backfilled the activity time from the newest message (9000 > 5000).
    const channels = await storage.chat.listChannelsOf('u_a');
    expect(channels.map((c) => c.channel.id)).toEqual(['c_busy', 'c_quiet']);
    expect((await storage.chat.getMessage('c_busy', 2))?.text).toBe('second');
    const appended = await storage.chat.write((tx) =>
      tx.appendMessage(
        {
          id: 'm3',
          channelId: 'c_busy',
          senderId: 'u_a',
          clientMsgId: null,
          kind: 'text',
          text: 'third',
          mentions: [],
          system: null,
          createdAt: 10_000,
        },
        ['u_a'],
      ),
    );
    expect(appended.message.seq).toBe(3);
    expect(appended.positions).toEqual([{ userId: 'u_a', pos: 3 }]);
    await storage.close();
  });

  it('migrate a version 2 store to contract v2: delivery markers, mentions and search backfilled', async () => {
    createVersion2Store();
    const storage = createSqliteStorage({ path: file });
    await storage.open();
    expect(storage.manifest.schemaVersion).toBe(SCHEMA_VERSION);
    expect(await storage.chat.getMember('c1', 'u_a')).toMatchObject({ readSeq: 2, deliveredSeq: 0 });
    const hello = await storage.chat.getMessage('c1', 2);
    expect(await storage.chat.mentionsOf({ userId: 'u_b', limit: 10 })).toEqual([hello]);
    expect(await storage.chat.mentionsOf({ userId: 'u_a', limit: 10 })).toEqual([]);
    const found = await storage.chat.searchMessages!({ userId: 'u_a', limit: 10, text: 'HELLO' });
    expect(found.map((m) => m.id)).toEqual(['m3', 'm2']);

    // New writes keep the new tables in step with the old rows.
    await storage.chat.write((tx) => tx.raiseDeliveredMarker('c1', 'u_b', 3));
    const appended = await storage.chat.write((tx) =>
      tx.appendMessage(
        {
          id: 'm4',
          channelId: 'c1',
          senderId: 'u_b',
          clientMsgId: null,
          kind: 'text',
          text: 'hello again @a',
          mentions: ['u_a'],
          system: null,
          createdAt: 5_000,
        },
        ['u_a', 'u_b'],
      ),
    );
    expect(appended.message.seq).toBe(4);
    expect(appended.positions).toEqual([
      { userId: 'u_a', pos: 4 },
      { userId: 'u_b', pos: 4 },
    ]);
    expect((await storage.chat.getMember('c1', 'u_b'))?.deliveredSeq).toBe(3);
    expect((await storage.chat.mentionsOf({ userId: 'u_a', limit: 10 })).map((m) => m.id)).toEqual(['m4']);
    const again = await storage.chat.searchMessages!({ userId: 'u_b', limit: 10, text: 'hello' });
    expect(again.map((m) => m.id)).toEqual(['m4', 'm3', 'm2']);
    expect(await storage.chat.write((tx) => tx.findByClientMsgId('u_a', 'k2'))).toEqual({
      message: hello,
      senderPos: 2,
    });
    await storage.close();
  });

  it('refuse a store whose schema is newer than the code, without touching it', async () => {
    const db = new Database(file);
    db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    db.close();
    const storage = createSqliteStorage({ path: file });
    await expect(storage.open()).rejects.toMatchObject({ code: ErrorCode.STORE_VERSION_UNSUPPORTED });
    const after = new Database(file, { readonly: true });
    expect(schemaVersionOf(after)).toBe(SCHEMA_VERSION + 1);
    expect(after.pragma('journal_mode', { simple: true })).toBe('delete');
    after.close();
    await expect(storage.chat.getChannel('c1')).rejects.toMatchObject({ code: ErrorCode.UNAVAILABLE });
  });

  it('roll back a failing step and keep the previous version', () => {
    const db = new Database(file);
    const steps = [
      { version: 1, description: 'ok', sql: 'CREATE TABLE a (x INTEGER)' },
      {
        version: 2,
        description: 'fails half-way',
        sql: 'CREATE TABLE b (x INTEGER); INSERT INTO nowhere VALUES (1);',
      },
    ];
    expect(() => migrate(db, 2, steps)).toThrow(/nowhere/);
    expect(schemaVersionOf(db)).toBe(1);
    expect(
      db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").pluck().all(),
    ).toEqual(['a']);
    db.close();
  });
});
