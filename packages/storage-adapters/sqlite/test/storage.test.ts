import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ErrorCode, type NewMessage, type StorageAdapter, type WriteTransaction } from '@natter/server-core';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createSqliteStorage, SCHEMA_VERSION } from '../src/index.js';

let dir: string;
let file: string;
let storage: StorageAdapter;

const message = (id: string, overrides: Partial<NewMessage> = {}): NewMessage => ({
  id,
  channelId: 'c1',
  senderId: 'u_a',
  clientMsgId: null,
  kind: 'text',
  text: `text ${id}`,
  mentions: [],
  system: null,
  createdAt: 1_000,
  ...overrides,
});

async function createChannel(adapter: StorageAdapter): Promise<void> {
  await adapter.chat.write(async (tx) => {
    await tx.insertChannel({
      id: 'c1',
      kind: 'group',
      name: 'one',
      createdBy: 'u_a',
      createdAt: 1,
      directKey: null,
    });
    await tx.upsertMember({
      channelId: 'c1',
      userId: 'u_a',
      role: 'admin',
      joinedAt: 1,
      joinedSeq: 1,
      readSeq: 0,
      deliveredSeq: 0,
    });
  });
}

beforeEach(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'natter-sqlite-'));
  file = path.join(dir, 'nested', 'deeper', 'natter.db');
  storage = createSqliteStorage({ path: file });
  await storage.open();
  await createChannel(storage);
});

afterEach(async () => {
  await storage.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('createSqliteStorage', () => {
  it('creates the parent directory and a WAL-mode database', () => {
    expect(fs.existsSync(file)).toBe(true);
    const db = new Database(file, { readonly: true });
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    db.close();
  });

  it('declares a persistent, single-process store of the current schema, with search and message changes', () => {
    expect(storage.manifest).toMatchObject({
      name: 'sqlite',
      schemaVersion: SCHEMA_VERSION,
      capabilities: {
        persistent: true,
        multiProcess: false,
        search: true,
        lifecycle: true,
        moderation: true,
      },
    });
  });

  it('rejects invalid options', () => {
    expect(() => createSqliteStorage({ path: '' })).toThrow(TypeError);
    expect(() => createSqliteStorage({ path: ':memory:' })).toThrow(TypeError);
    expect(() => createSqliteStorage({ path: file, maxBatchSize: 0 })).toThrow(TypeError);
    expect(() => createSqliteStorage({ path: file, synchronous: 'off' as 'full' })).toThrow(TypeError);
  });

  it('keeps its epoch across reopen, and a new store gets another one', async () => {
    const epoch = storage.chat.epoch();
    await storage.close();
    storage = createSqliteStorage({ path: file });
    await storage.open();
    expect(storage.chat.epoch()).toBe(epoch);
    const other = createSqliteStorage({ path: path.join(dir, 'other.db') });
    await other.open();
    expect(other.chat.epoch()).not.toBe(epoch);
    await other.close();
  });

  it('works with synchronous: normal', async () => {
    await storage.close();
    storage = createSqliteStorage({ path: file, synchronous: 'normal', maxBatchSize: 4 });
    await storage.open();
    const seqs = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        storage.chat.write((tx) => tx.appendMessage(message(`m${i}`), ['u_a']), { channelId: 'c1' }),
      ),
    );
    expect(seqs.map((a) => a.message.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });
});

describe('an append that fails after its first write', () => {
  // kind 'bogus' passes the adapter (the port's types are not checked at runtime) and fails the
  // table's CHECK constraint on the message insert, after the idempotency key was written: the
  // stand-in for an I/O error in the middle of an append.
  const broken = (id: string) => message(id, { clientMsgId: `k-${id}`, kind: 'bogus' as 'text' });

  it('never commits, even when the caller catches the error and goes on', async () => {
    const write = storage.chat.write(async (tx) => {
      await expect(tx.appendMessage(broken('m1'), ['u_a'])).rejects.toThrow(/CHECK/);
      await tx.renameChannel('c1', 'renamed');
    });
    await expect(write).rejects.toThrow(/CHECK/);
    expect((await storage.chat.getChannel('c1'))?.name).toBe('one');
    const next = await storage.chat.write((tx) =>
      tx.appendMessage(message('m2', { clientMsgId: 'k-m1' }), ['u_a']),
    );
    // Nothing of the failed append survived: its seq, pos and clientMsgId are handed out again.
    expect(next.message.seq).toBe(1);
    expect(next.positions).toEqual([{ userId: 'u_a', pos: 1 }]);
  });

  it('stays refused when a later call of the batch rolls back its own savepoint', async () => {
    const results = await Promise.allSettled([
      storage.chat.write(async (tx) => {
        await tx.appendMessage(broken('m1'), ['u_a']).catch(() => undefined);
      }),
      storage.chat.write(async () => {
        throw new Error('the second call fails on its own');
      }),
    ]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect((await storage.chat.getChannel('c1'))?.lastSeq).toBe(0);
    expect(await storage.chat.syncHead('u_a')).toBe(0);
  });

  it('leaves the batch clean when the failing call itself rolls back', async () => {
    const [failed, ok] = await Promise.allSettled([
      storage.chat.write((tx) => tx.appendMessage(broken('m1'), ['u_a'])),
      storage.chat.write((tx) => tx.appendMessage(message('m2'), ['u_a'])),
    ]);
    expect(failed.status).toBe('rejected');
    expect(ok.status).toBe('fulfilled');
    expect((await storage.chat.getChannel('c1'))?.lastSeq).toBe(1);
    expect((await storage.chat.getMessage('c1', 1))?.id).toBe('m2');
  });
});

describe('WAL checkpoints', () => {
  it('a worker thread copies the WAL back into the database file while the store is open', async () => {
    await storage.close();
    storage = createSqliteStorage({ path: file, checkpointIntervalMs: 20 });
    await storage.open();
    const before = fs.statSync(file).size;
    for (let round = 0; round < 10; round++) {
      await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          storage.chat.write(
            (tx) => tx.appendMessage(message(`m${round}-${i}`, { text: 'x'.repeat(500) }), ['u_a']),
            { channelId: 'c1' },
          ),
        ),
      );
    }
    // The writer never checkpoints (wal_autocheckpoint = 0): only the worker grows the main file.
    const deadline = Date.now() + 5_000;
    while (fs.statSync(file).size <= before && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(fs.statSync(file).size).toBeGreaterThan(before + 100_000);
    expect((await storage.chat.getChannel('c1'))?.lastSeq).toBe(500);
  });

  it('rejects a checkpoint interval that is not a positive integer', () => {
    expect(() => createSqliteStorage({ path: file, checkpointIntervalMs: 0 })).toThrow(TypeError);
  });
});

describe('the read connection', () => {
  it('does not see a batch in progress, neither does any other connection', async () => {
    const outside = new Database(file, { readonly: true });
    const seen: unknown[] = [];
    let release!: () => void;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const pending = storage.chat.write(async (tx) => {
      await tx.appendMessage(message('m1'), ['u_a']);
      // Inside the batch the write connection sees its own row...
      seen.push((await tx.getChannel('c1'))?.lastSeq);
      // ...while the adapter's reads and an unrelated connection see the last commit.
      seen.push((await storage.chat.getChannel('c1'))?.lastSeq);
      seen.push(await storage.chat.getMessage('c1', 1));
      seen.push(outside.prepare('SELECT count(*) AS n FROM messages').get());
      await held;
    });
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(await storage.chat.syncHead('u_a')).toBe(0);
    release();
    await pending;
    expect(seen).toEqual([1, 0, undefined, { n: 0 }]);
    expect(await storage.chat.syncHead('u_a')).toBe(1);
    expect(outside.prepare('SELECT count(*) AS n FROM messages').get()).toEqual({ n: 1 });
    outside.close();
  });
});

describe('writes', () => {
  it('refuse a transaction used after its write settled', async () => {
    let leaked!: WriteTransaction;
    await storage.chat.write(async (tx) => {
      leaked = tx;
    });
    await expect(leaked.getChannel('c1')).rejects.toThrow(/after its write\(\) settled/);
    await expect(leaked.appendMessage(message('m1'), ['u_a'])).rejects.toThrow();
  });

  it('map a taken channel id or direct key to CONFLICT', async () => {
    const direct = {
      id: 'c_d',
      kind: 'direct' as const,
      name: null,
      createdBy: 'u_a',
      createdAt: 1,
      directKey: 'u_a|u_b',
    };
    await storage.chat.write((tx) => tx.insertChannel(direct));
    await expect(storage.chat.write((tx) => tx.insertChannel(direct))).rejects.toMatchObject({
      code: ErrorCode.CONFLICT,
    });
    await expect(
      storage.chat.write((tx) => tx.insertChannel({ ...direct, id: 'c_d2' })),
    ).rejects.toMatchObject({
      code: ErrorCode.CONFLICT,
    });
  });

  it('are refused with UNAVAILABLE after close, and close waits for queued ones', async () => {
    const queued = Array.from({ length: 5 }, (_, i) =>
      storage.chat.write((tx) => tx.appendMessage(message(`m${i}`), ['u_a']), { channelId: 'c1' }),
    );
    const closed = storage.close();
    await expect(storage.chat.write(async () => 1)).rejects.toMatchObject({ code: ErrorCode.UNAVAILABLE });
    await expect(
      storage.accounts.saveRefreshToken({ tokenHash: 'h', userId: 'u', deviceId: 'd', expiresAt: 1 }),
    ).rejects.toMatchObject({
      code: ErrorCode.UNAVAILABLE,
    });
    await closed;
    expect((await Promise.all(queued)).map((a) => a.message.seq)).toEqual([1, 2, 3, 4, 5]);
    await expect(storage.chat.getChannel('c1')).rejects.toMatchObject({ code: ErrorCode.UNAVAILABLE });
    await storage.open();
    expect((await storage.chat.getChannel('c1'))?.lastSeq).toBe(5);
  });
});
