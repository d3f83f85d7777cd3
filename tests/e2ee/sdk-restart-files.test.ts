import { join } from 'node:path';
import { createFsBlobStore } from '@natter/blob-fs';
import { EncryptedFileError, type EncryptedFileRef } from '@natter/client';
import { LevelStore } from '@natter/client/level';
import { createMedia, createSqliteMediaStore } from '@natter/media';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from '../helpers/server.js';
import { device, deviceTracker, online, read, waitFor } from './sdk-helpers.js';

let server: TestServer;
const { track, closeAll } = deviceTracker();

beforeAll(async () => {
  const dir = (await import('node:fs')).mkdtempSync(
    join((await import('node:os')).tmpdir(), 'natter-e2ee-media-'),
  );
  server = await startServer(
    {
      media: createMedia({
        blobs: createFsBlobStore({ root: join(dir, 'blobs'), fsync: false }),
        store: createSqliteMediaStore({ path: join(dir, 'media.sqlite') }),
        pipeline: { tempDir: join(dir, 'tmp'), ffmpeg: false },
        tus: false,
      }),
    },
    dir,
  );
});

afterAll(async () => {
  await closeAll();
  await server.stop();
});

describe('encrypted channels across restarts and with files', () => {
  it('a client restarted on its LevelDB store keeps decrypting, including what arrived while it was down', async () => {
    const storeDir = join(server.dir, 'hal-level');
    const hal = await online(track(device(server.url, new LevelStore(storeDir))), 'halvard', true);
    const ivy = await online(track(device(server.url)), 'ivyrose', true);
    const direct = await ivy.client.openDirect(hal.client.userId!, { encrypted: true });
    await ivy.client.send(direct.id, 'one').acked;
    await waitFor(() => read(hal, direct.id).includes('one'), 'the first message');
    const session = hal.client.session!;
    await hal.client.close();

    await ivy.client.send(direct.id, 'two, while you were away').acked;
    const again = track(device(server.url, new LevelStore(storeDir)));
    again.client.setSession(session);
    // Written before the connection is back: it waits in the outbox (in LevelDB) and leaves encrypted.
    expect((await again.client.cachedChannels()).find((c) => c.id === direct.id)?.encrypted).toBe(true);
    const offline = again.client.send(direct.id, 'written offline');
    expect(again.client.pending().map((m) => m.text)).toEqual(['written offline']);
    await again.client.connect();
    await again.client.whenSynced();
    expect((await again.client.e2ee()).mls!.identity.deviceId).toBe(hal.client.deviceId);
    await waitFor(
      () => read(again, direct.id).includes('two, while you were away'),
      'the message sent while down',
    );
    await ivy.client.send(direct.id, 'three').acked;
    await waitFor(() => read(again, direct.id).includes('three'), 'the message after the restart');
    await offline.acked;
    await waitFor(() => read(ivy, direct.id).includes('written offline'), 'the message written offline');
    await waitFor(() => read(again, direct.id).includes('written offline'), 'its echo on the sender');
    expect(again.failures).toEqual([]);
  }, 120_000);

  it('an encrypted attachment round-trips; the server holds only opaque bytes', async () => {
    const jo = await online(track(device(server.url)), 'joanna', true);
    const kit = await online(track(device(server.url)), 'kitten', true);
    const direct = await jo.client.openDirect(kit.client.userId!, { encrypted: true });
    const refs: EncryptedFileRef[] = [];
    kit.client.on('message', ({ encrypted }) => {
      if (encrypted?.payload.t === 'msg') refs.push(...(encrypted.payload.attachments ?? []));
    });
    const photo = new Uint8Array(300_000).map((_, i) => (i * 13) % 251);
    photo.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]); // a PNG signature the server must never see
    const thumbnail = {
      mime: 'image/webp',
      width: 4,
      height: 3,
      dataBase64: Buffer.from('tiny').toString('base64'),
    };
    await (
      await jo.client.sendEncryptedFiles(direct.id, 'the photo', [
        { data: photo, mime: 'image/png', name: 'beach.png', width: 800, height: 600, thumbnail },
      ])
    ).acked;
    await waitFor(() => refs.length === 1, 'the attachment reference');
    expect(refs[0]).toMatchObject({
      mime: 'image/png',
      name: 'beach.png',
      width: 800,
      height: 600,
      thumbnail,
    });
    // The server attached the upload to the encrypted entry: the receiver (another user) fetches and decrypts it.
    expect(await kit.client.downloadEncrypted(refs[0]!)).toEqual(photo);
    const ciphertext = new Uint8Array(
      await (await fetch(await kit.client.mediaUrl(refs[0]!.mediaId))).arrayBuffer(),
    );
    // The server stored the ciphertext (five 64 KiB chunks, each with its tag), nothing of the photo.
    expect(ciphertext.length).toBe(photo.length + 5 * 16);
    expect(Buffer.from(ciphertext).includes(Buffer.from(photo.subarray(0, 64)))).toBe(false);
    // A stranger (no member of the channel) gets the 404 of a missing upload.
    const stranger = await online(track(device(server.url)), 'lurker', true);
    const peek = await fetch(`${server.url}/v1/media/${refs[0]!.mediaId}`, {
      headers: { authorization: `Bearer ${stranger.client.session!.accessToken}` },
    });
    expect(peek.status).toBe(404);
    await expect(stranger.client.downloadEncrypted(refs[0]!)).rejects.toMatchObject({
      code: 'NATTER_NOT_FOUND',
    });

    const forged = { ...refs[0]!, key: Buffer.alloc(32, 1).toString('base64') };
    await expect(kit.client.downloadEncrypted(forged)).rejects.toBeInstanceOf(EncryptedFileError);
  }, 120_000);
});
