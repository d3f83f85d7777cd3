import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Message, ReadEncryptedMessage } from '@natter/client';
import { LevelStore } from '@natter/client/level';
import { Level } from 'level';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from '../helpers/server.js';
import { device, deviceTracker, online, read, waitFor } from './sdk-helpers.js';

let server: TestServer;
const { track, closeAll } = deviceTracker();

beforeAll(async () => {
  server = await startServer();
});

afterAll(async () => {
  await closeAll();
  await server.stop();
});

/** What a page shows, one line per entry: decrypted texts, deletions, change carriers, unreadable entries. */
function shown(messages: readonly Message[]): string[] {
  return messages.flatMap((m: ReadEncryptedMessage) => {
    if (m.system?.action === 'mls_commit' || m.system?.action === 'created') return [];
    const state = m.e2ee;
    if (state?.state === 'undecryptable') return [`undecryptable ${state.reason}`];
    if (state?.state === 'change') return [`change ${state.change}`];
    if (m.deletedAt !== undefined) return ['deleted'];
    const reactions = (m.reactions ?? []).map((r) => `${r.emoji}${r.count}`).join('');
    return [`${state?.state ?? 'plain'} ${m.text}${reactions ? ` ${reactions}` : ''}`];
  });
}

/** Every value in a LevelDB directory, as text (the store is closed). */
async function storedText(location: string): Promise<string> {
  const db = new Level<string, string>(location);
  await db.open();
  try {
    return (await db.values().all()).join('\n');
  } finally {
    await db.close();
  }
}

describe('encrypted history across a restart', () => {
  it('history() and the cache give the texts decrypted before the restart; a delete erases the plaintext', async () => {
    const storeDir = mkdtempSync(join(tmpdir(), 'natter-e2history-'));
    const hal = await online(track(device(server.url, new LevelStore(storeDir))), 'halhistory', true);
    const ivy = await online(track(device(server.url)), 'ivyhistory', true);
    const direct = await ivy.client.openDirect(hal.client.userId!, { encrypted: true });
    for (const text of ['first words', 'second words', 'secretthird words'])
      await ivy.client.send(direct.id, text).acked;
    await waitFor(() => read(hal, direct.id).length === 3, 'the three messages');
    await hal.client.send(direct.id, 'reply from hal').acked;
    await waitFor(() => read(ivy, direct.id).includes('reply from hal'), 'the reply');

    const [first, second, third] = (await ivy.client.cachedMessages(direct.id)).filter(
      (m) => m.kind === 'text' && m.senderId === ivy.client.userId,
    );
    let deleted = false;
    let reacted = false;
    hal.client.on('messageDeleted', ({ message }) => {
      if (message.seq === third!.seq) deleted = true;
    });
    hal.client.on('reactionChanged', ({ seq }) => {
      if (seq === first!.seq) reacted = true;
    });
    await ivy.client.edit(direct.id, second!.seq, 'second words, edited');
    await ivy.client.react(direct.id, first!.seq, '👍');
    await ivy.client.delete(direct.id, third!.seq);
    await waitFor(() => deleted && reacted, 'the delete and the reaction');
    await (await hal.client.e2ee()).idle();

    const expected = [
      'decrypted first words 👍1',
      'decrypted second words, edited',
      'deleted',
      'decrypted reply from hal',
      'change edit',
      'change react',
      'change delete',
    ];
    const before = shown((await hal.client.history(direct.id)).messages);
    expect(before).toEqual(expected);
    const session = hal.client.session!;
    await hal.client.close();

    // The store keeps the decrypted texts, and nothing of the deleted one (the tombstone only).
    const text = await storedText(storeDir);
    expect(text).toContain('second words, edited');
    expect(text).not.toContain('secretthird');

    const again = track(device(server.url, new LevelStore(storeDir)));
    again.client.setSession(session);
    expect(shown(await again.client.cachedMessages(direct.id))).toEqual(expected);
    await again.client.connect();
    await again.client.whenSynced();
    expect(shown((await again.client.history(direct.id)).messages)).toEqual(expected);
    expect(shown(await again.client.cachedMessages(direct.id))).toEqual(expected);
    expect(again.failures).toEqual([]);

    // A device that joined later reads none of it: each entry is explicit about why, never a silent ciphertext.
    const phone = await online(track(device(server.url)), 'halhistory', false);
    const late = shown((await phone.client.history(direct.id)).messages);
    expect(late).toHaveLength(expected.length);
    for (const line of late) expect(line).toMatch(/^undecryptable NATTER_E2EE_[A-Z_]+$/);
  }, 240_000);
});
