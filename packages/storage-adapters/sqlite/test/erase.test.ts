import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DEFAULT_LIMITS } from '@natter/protocol';
import { ChatService } from '@natter/server-core/internals';
import { afterEach, describe, expect, it } from 'vitest';
import { createSqliteStorage } from '../src/index.js';

/** Every byte the store keeps on disk: the database, its WAL and its shared-memory index. */
function bytesOnDisk(dir: string): Buffer {
  const files = fs.readdirSync(dir, { recursive: true, encoding: 'utf8' });
  return Buffer.concat(
    files
      .map((f) => path.join(dir, f))
      .filter((f) => fs.statSync(f).isFile())
      .map((f) => fs.readFileSync(f)),
  );
}

describe('sqlite: a deleted message leaves no bytes behind', () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('the text of a deleted (and of an edited-away) message is not in the database file after close', async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'natter-erase-'));
    const file = path.join(dir, 'natter.db');
    const storage = createSqliteStorage({ path: file });
    await storage.open();
    const service = new ChatService({
      chat: storage.chat,
      accounts: storage.accounts,
      limits: DEFAULT_LIMITS,
      sink: { deliver: () => undefined },
    });
    for (const id of ['u_a', 'u_b']) {
      await storage.accounts.createUser({
        id,
        username: id,
        displayName: id,
        passwordHash: null,
        createdAt: 1,
      });
    }
    const group = await service.createGroup('u_a', 'g', ['u_b']);
    // Bounded filler so the secret shares pages with other rows, as in a real store.
    for (let i = 0; i < 50; i++) {
      await service.sendMessage('u_b', { channelId: group.id, clientMsgId: `f${i}`, text: `filler ${i}` });
    }
    const sent = await service.sendMessage('u_a', {
      channelId: group.id,
      clientMsgId: 's',
      text: 'qxzsecretmarker original',
    });
    await service.lifecycle.edit('u_a', {
      clientId: 'e',
      channelId: group.id,
      seq: sent.entry.message.seq,
      text: 'qxzsecretmarker edited',
    });
    await service.lifecycle.delete('u_a', {
      clientId: 'd',
      channelId: group.id,
      seq: sent.entry.message.seq,
    });
    await storage.close();
    const bytes = bytesOnDisk(dir);
    expect(bytes.length).toBeGreaterThan(0);
    expect(bytes.includes(Buffer.from('filler 7'))).toBe(true);
    expect(bytes.includes(Buffer.from('qxzsecretmarker'))).toBe(false);
  });
});
