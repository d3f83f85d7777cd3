import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ErrorCode, type NewMessage, type StorageAdapter, type WriteTransaction } from '@natter/server-core';
import { Level } from 'level';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLevelStorage, SCHEMA_VERSION } from '../src/index.js';

let dir: string;
let location: string;
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

async function createChannel(adapter: StorageAdapter, channelId = 'c1', userIds = ['u_a']): Promise<void> {
  await adapter.chat.write(async (tx) => {
    await tx.insertChannel({
      id: channelId,
      kind: 'group',
      name: channelId,
      createdBy: 'u_a',
      createdAt: 1,
      directKey: null,
    });
    for (const userId of userIds) {
      await tx.upsertMember({
        channelId,
        userId,
        role: 'member',
        joinedAt: 1,
        joinedSeq: 1,
        readSeq: 0,
        deliveredSeq: 0,
      });
    }
  });
}

beforeEach(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'natter-level-'));
  location = path.join(dir, 'nested', 'store');
  storage = createLevelStorage({ path: location });
  await storage.open();
  await createChannel(storage);
});

afterEach(async () => {
  await storage.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('createLevelStorage', () => {
  it('creates the directory and declares a persistent, single-process store without search', () => {
    expect(fs.existsSync(path.join(location, 'CURRENT'))).toBe(true);
    expect(storage.manifest).toMatchObject({
      name: 'level',
      schemaVersion: SCHEMA_VERSION,
      capabilities: {
        persistent: true,
        multiProcess: false,
        search: false,
        lifecycle: true,
        moderation: true,
      },
    });
    expect(storage.chat.searchMessages).toBeUndefined();
  });

  it('rejects invalid options', () => {
    expect(() => createLevelStorage({ path: '' })).toThrow(TypeError);
    expect(() => createLevelStorage({ path: location, maxBatchSize: 0 })).toThrow(TypeError);
    expect(() => createLevelStorage({ path: location, sync: 'yes' as unknown as boolean })).toThrow(
      TypeError,
    );
  });

  it('refuses a second adapter on the same directory while the first is open', async () => {
    const second = createLevelStorage({ path: location });
    await expect(second.open()).rejects.toMatchObject({ code: ErrorCode.UNAVAILABLE });
    await storage.close();
    await second.open();
    expect((await second.chat.getChannel('c1'))?.id).toBe('c1');
    await second.close();
  });

  it('keeps its epoch across reopen, and a new store gets another one', async () => {
    const epoch = storage.chat.epoch();
    expect(epoch).toMatch(/^[0-9a-f]{32}$/);
    await storage.close();
    await storage.open();
    expect(storage.chat.epoch()).toBe(epoch);
    const other = createLevelStorage({ path: path.join(dir, 'other') });
    await other.open();
    expect(other.chat.epoch()).not.toBe(epoch);
    await other.close();
  });

  it('works with sync: false', async () => {
    await storage.close();
    storage = createLevelStorage({ path: location, sync: false, maxBatchSize: 4 });
    await storage.open();
    const appended = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        storage.chat.write((tx) => tx.appendMessage(message(`m${i}`), ['u_a'])),
      ),
    );
    expect(appended.map((a) => a.message.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });
});

describe('the layout version', () => {
  it('upgrades layout 3 to 4: existing revocations get their expiry index and are pruned like new ones', async () => {
    await storage.close();
    const db = new Level<string, unknown>(location, { valueEncoding: 'json' });
    await db.put('meta!schema', 3);
    await db.put('rv!s:legacy', { subject: 's:legacy', issuedBefore: 1, expiresAt: 500 });
    await db.close();
    await storage.open();
    await storage.accounts.addRevocation({ subject: 's:fresh', issuedBefore: 2, expiresAt: 90_000 }, 1_000);
    await storage.close();
    const after = new Level<string, unknown>(location, { valueEncoding: 'json' });
    expect(await after.get('meta!schema')).toBe(SCHEMA_VERSION);
    expect(await after.keys({ gte: 'rv', lt: 'rw' }).all()).toEqual([
      'rv!s:fresh',
      `rve!${(90_000).toString(16).padStart(16, '0')}!s:fresh`,
    ]);
    await after.close();
    await storage.open();
  });

  it('is written into a new store', async () => {
    await storage.close();
    const db = new Level<string, unknown>(location, { valueEncoding: 'json' });
    expect(await db.get('meta!schema')).toBe(SCHEMA_VERSION);
    await db.close();
  });

  it('refuses a store whose layout is newer than the code, without touching it', async () => {
    await storage.close();
    const db = new Level<string, unknown>(location, { valueEncoding: 'json' });
    await db.put('meta!schema', SCHEMA_VERSION + 1);
    await db.close();
    const newer = createLevelStorage({ path: location });
    await expect(newer.open()).rejects.toMatchObject({ code: ErrorCode.STORE_VERSION_UNSUPPORTED });
    await expect(newer.chat.getChannel('c1')).rejects.toMatchObject({ code: ErrorCode.UNAVAILABLE });
    const after = new Level<string, unknown>(location, { valueEncoding: 'json' });
    expect(await after.get('meta!schema')).toBe(SCHEMA_VERSION + 1);
    expect(await after.get('c!c1')).toMatchObject({ id: 'c1' });
    await after.close();
  });
});

describe('keys', () => {
  it('keep ids containing the separator or the escape character apart', async () => {
    await createChannel(storage, 'a', ['x']);
    await createChannel(storage, 'a!b', ['x!y', 'x%21y']);
    await createChannel(storage, 'a%21b', ['x']);
    for (const channelId of ['a', 'a!b', 'a!b', 'a%21b']) {
      await storage.chat.write((tx) => tx.appendMessage(message(`m-${channelId}`, { channelId }), ['x!y']));
    }
    expect((await storage.chat.listMembers('a')).map((m) => m.userId)).toEqual(['x']);
    expect((await storage.chat.listMembers('a!b')).map((m) => m.userId).sort()).toEqual(['x!y', 'x%21y']);
    expect((await storage.chat.listChannelsOf('x')).map((c) => c.channel.id).sort()).toEqual(['a', 'a%21b']);
    expect((await storage.chat.listChannelsOf('x!y')).map((c) => c.channel.id)).toEqual(['a!b']);
    const history = await storage.chat.readHistory('a', { limit: 10, minSeq: 0 });
    expect(history.messages.map((m) => m.id)).toEqual(['m-a']);
    expect((await storage.chat.readHistory('a!b', { limit: 10, minSeq: 0 })).messages).toHaveLength(2);
    expect((await storage.chat.readSync('x!y', 0, 10)).map((e) => e.pos)).toEqual([1, 2, 3, 4]);
    expect(await storage.chat.readSync('x', 0, 10)).toEqual([]);
  });
});

describe('reads outside write()', () => {
  it('do not see a batch in progress', async () => {
    const seen: unknown[] = [];
    let release!: () => void;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const pending = storage.chat.write(async (tx) => {
      await tx.appendMessage(message('m1'), ['u_a']);
      seen.push((await tx.getChannel('c1'))?.lastSeq);
      seen.push((await storage.chat.getChannel('c1'))?.lastSeq);
      seen.push(await storage.chat.getMessage('c1', 1));
      seen.push(await storage.chat.readSync('u_a', 0, 10));
      await held;
    });
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(await storage.chat.syncHead('u_a')).toBe(0);
    release();
    await pending;
    expect(seen).toEqual([1, 0, undefined, []]);
    expect(await storage.chat.syncHead('u_a')).toBe(1);
  });
});

describe('writes', () => {
  it('give a recipient listed twice two positions', async () => {
    const appended = await storage.chat.write((tx) => tx.appendMessage(message('m1'), ['u_a', 'u_b', 'u_a']));
    expect(appended.positions).toEqual([
      { userId: 'u_a', pos: 1 },
      { userId: 'u_b', pos: 1 },
      { userId: 'u_a', pos: 2 },
    ]);
    expect(await storage.chat.syncHead('u_a')).toBe(2);
  });

  it('refuse a transaction used after its write settled', async () => {
    let leaked!: WriteTransaction;
    await storage.chat.write(async (tx) => {
      leaked = tx;
    });
    await expect(leaked.getChannel('c1')).rejects.toThrow(/after its write\(\) settled/);
    await expect(leaked.appendMessage(message('m1'), ['u_a'])).rejects.toThrow();
  });

  it('are refused with UNAVAILABLE after close, and close waits for queued ones', async () => {
    const queued = Array.from({ length: 5 }, (_, i) =>
      storage.chat.write((tx) => tx.appendMessage(message(`m${i}`), ['u_a'])),
    );
    const closed = storage.close();
    await expect(storage.chat.write(async () => 1)).rejects.toMatchObject({ code: ErrorCode.UNAVAILABLE });
    await expect(
      storage.accounts.saveRefreshToken({ tokenHash: 'h', userId: 'u', deviceId: 'd', expiresAt: 1 }),
    ).rejects.toMatchObject({ code: ErrorCode.UNAVAILABLE });
    await closed;
    expect((await Promise.all(queued)).map((a) => a.message.seq)).toEqual([1, 2, 3, 4, 5]);
    await expect(storage.chat.getChannel('c1')).rejects.toMatchObject({ code: ErrorCode.UNAVAILABLE });
    await storage.open();
    expect((await storage.chat.getChannel('c1'))?.lastSeq).toBe(5);
  });

  it('revoke refresh tokens by user and device, also with separators in the ids', async () => {
    const save = (tokenHash: string, userId: string, deviceId: string) =>
      storage.accounts.saveRefreshToken({ tokenHash, userId, deviceId, expiresAt: 10 });
    await save('h1', 'u!1', 'd!1');
    await save('h2', 'u!1', 'd!1x');
    await save('h3', 'u!1x', 'd!1');
    await save('h4!x', 'u!1', 'd');
    await storage.accounts.revokeRefreshTokens('u!1', 'd!1');
    expect(await storage.accounts.takeRefreshToken('h1', 0)).toBeUndefined();
    expect(await storage.accounts.takeRefreshToken('h2', 0)).toMatchObject({ deviceId: 'd!1x' });
    expect(await storage.accounts.takeRefreshToken('h3', 0)).toMatchObject({ userId: 'u!1x' });
    await storage.accounts.revokeRefreshTokens('u!1');
    expect(await storage.accounts.takeRefreshToken('h4!x', 0)).toBeUndefined();
    // A token saved again under another user moves its index entry with it.
    await save('h5', 'u_old', 'd');
    await save('h5', 'u_new', 'd');
    await storage.accounts.revokeRefreshTokens('u_old');
    expect(await storage.accounts.takeRefreshToken('h5', 0)).toMatchObject({ userId: 'u_new' });
  });

  it('drops expired session revocations with the next revocation, and keeps live ones', async () => {
    await storage.accounts.addRevocation({ subject: 's:old', issuedBefore: 1, expiresAt: 1_000 }, 0);
    await storage.accounts.addRevocation({ subject: 's:kept', issuedBefore: 2, expiresAt: 9_000 }, 0);
    await storage.accounts.addRevocation({ subject: 's:old', issuedBefore: 1, expiresAt: 1_500 }, 0);
    await storage.accounts.addRevocation({ subject: 'u:new', issuedBefore: 3, expiresAt: 20_000 }, 5_000);
    expect(await storage.accounts.revokedBefore(['s:kept'], 5_000)).toBe(2);
    await storage.close();
    const db = new Level<string, unknown>(location, { valueEncoding: 'json' });
    const keys = await db.keys({ gte: 'rv', lt: 'rw' }).all();
    await db.close();
    expect(keys.sort()).toEqual([
      'rv!s:kept',
      'rv!u:new',
      `rve!${(9_000).toString(16).padStart(16, '0')}!s:kept`,
      `rve!${(20_000).toString(16).padStart(16, '0')}!u:new`,
    ]);
    await storage.open();
  });
});
