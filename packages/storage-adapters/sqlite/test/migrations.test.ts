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

describe('schema migrations', () => {
  it('are numbered 1..n in order', () => {
    expect(MIGRATIONS.map((m) => m.version)).toEqual(MIGRATIONS.map((_, i) => i + 1));
    expect(SCHEMA_VERSION).toBe(MIGRATIONS.length);
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
