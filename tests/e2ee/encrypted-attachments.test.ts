import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createFsBlobStore } from '@natter/blob-fs';
import { createMedia, createSqliteMediaStore, type MediaService } from '@natter/media';
import { type Attachment, ErrorCode, MEDIA_LIMITS, type Message } from '@natter/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, signup, startServer, type TestServer, type TestUser } from '../helpers/server.js';
import { loginDevice, MlsDevice } from './mls-device.js';

/**
 * Encrypted attachments on the Delivery Service (decision 196): an encrypted send names the sender's uploads
 * of encrypted files and the server attaches them to its `mls_message` entry as a plaintext send does.
 * Real engines, the real HTTP API, SQLite chat and media stores and a filesystem blob store.
 */
let ts: TestServer;
let media: MediaService;
/** How far the media's clock is ahead of the real one (the sweeper's age test), ms. */
let clockAhead = 0;

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'natter-e2ee-attach-'));
  const factory = createMedia({
    blobs: createFsBlobStore({ root: join(dir, 'blobs'), fsync: false }),
    store: createSqliteMediaStore({ path: join(dir, 'media.sqlite') }),
    pipeline: { tempDir: join(dir, 'tmp'), ffmpeg: false },
    tus: false,
    unattachedTtlMs: 60_000,
    blobGraceMs: 0,
    // Ahead of the blob store's real clock, never behind it.
    now: () => Date.now() + clockAhead,
  });
  ts = await startServer(
    {
      media: (context) => {
        media = factory(context) as MediaService;
        return media;
      },
    },
    dir,
  );
});

afterAll(async () => {
  await ts.stop();
});

type Refusal = { error: { code: string } };

/** Uploads opaque bytes as the SDK uploads an encrypted file. */
async function upload(user: TestUser, bytes: Uint8Array<ArrayBuffer>): Promise<{ id: string; size: number }> {
  const res = await fetch(`${ts.url}/v1/media?filename=encrypted`, {
    method: 'POST',
    headers: { authorization: `Bearer ${user.accessToken}`, 'content-type': 'application/octet-stream' },
    body: bytes,
  });
  expect(res.status).toBe(201);
  return (await res.json()) as { id: string; size: number };
}

async function download(user: TestUser, mediaId: string): Promise<{ status: number; bytes: Uint8Array }> {
  const res = await fetch(`${ts.url}/v1/media/${mediaId}`, {
    headers: { authorization: `Bearer ${user.accessToken}` },
  });
  return { status: res.status, bytes: new Uint8Array(await res.arrayBuffer()) };
}

/** Alice and Bob in a new encrypted group (alice's first commit adds Bob's device); Carol knows neither. */
async function group() {
  const [alice, bob, carol] = await Promise.all([signup(ts.url), signup(ts.url), signup(ts.url)]);
  const [a1, b1] = await Promise.all([MlsDevice.create(ts.url, alice), MlsDevice.create(ts.url, bob)]);
  const created = await api<{ channel: { id: string } }>(ts.url, alice, 'POST', '/v1/groups', {
    name: 'with files',
    memberIds: [bob.id],
    encrypted: true,
  });
  expect(created.status).toBe(201);
  const channelId = created.body.channel.id;
  await a1!.engine.createGroup(channelId);
  await a1!.add(channelId, [b1!.ref]);
  expect(await b1!.acceptWelcomes()).toEqual([channelId]);
  return { alice, bob, carol, a1: a1!, b1: b1!, channelId };
}

describe('encrypted attachments on the Delivery Service', () => {
  it('members download the uploads an encrypted send names; strangers get 404; each upload is attached once', async () => {
    const { alice, bob, carol, a1, b1, channelId } = await group();
    const file = randomBytes(100_000);
    const up = await upload(alice, file);
    // Unattached, it is the uploader's alone.
    expect((await download(bob, up.id)).status).toBe(404);

    const sent = await a1.send(channelId, 'the file', 'c-file-1', [up.id]);
    expect(sent.status).toBe(200);
    // The entry names the upload: its id and size, an opaque type, the name the SDK gives every such upload.
    expect(sent.body.message.attachments).toEqual([
      expect.objectContaining({
        mediaId: up.id,
        size: 100_000,
        mime: 'application/octet-stream',
        kind: 'file',
        filename: 'encrypted',
      }),
    ]);
    const fetched = await download(bob, up.id);
    expect(fetched.status).toBe(200);
    expect(Buffer.from(fetched.bytes).equals(file)).toBe(true);
    const signed = await api<{ url: string }>(ts.url, bob, 'POST', `/v1/media/${up.id}/url`, {});
    expect(signed.status).toBe(200);
    expect((await fetch(`${ts.url}${signed.body.url}`)).status).toBe(200);
    expect((await download(carol, up.id)).status).toBe(404);
    expect((await api(ts.url, carol, 'POST', `/v1/media/${up.id}/url`, {})).status).toBe(404);

    // Bob reads the entry through the log with its attachment ids, and decrypts it.
    await b1.catchUp(channelId);
    expect(b1.received.get(channelId)).toEqual(['the file']);
    const history = await b1.call<{ messages: Message[] }>('GET', `/v1/channels/${channelId}/messages`);
    const entry = history.body.messages.find((m) => m.system?.action === 'mls_message');
    expect(entry?.attachments?.map((a: Attachment) => a.mediaId)).toEqual([up.id]);

    // A retry of the same clientMsgId answers the original entry.
    const retry = await a1.send(channelId, 'the file', 'c-file-1', [up.id]);
    expect(retry.status).toBe(200);
    expect(retry.body.message.seq).toBe(sent.body.message.seq);
    // Another message may not carry it.
    const again = await a1.call<Refusal>('POST', `/v1/channels/${channelId}/encrypted`, {
      clientMsgId: 'c-file-2',
      ciphertext: Buffer.from(await a1.engine.encrypt(channelId, new Uint8Array([1]))).toString('base64'),
      attachments: [{ mediaId: up.id }],
    });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe(ErrorCode.MEDIA_ALREADY_ATTACHED);

    // Bob cannot attach Alice's upload (not his: 404, as for a missing one), nor more than the limit.
    const hers = await upload(alice, randomBytes(1_000));
    const foreign = await b1.send(channelId, 'not mine', 'c-bob-1', [hers.id]);
    expect(foreign.status).toBe(404);
    const mine = await Promise.all(
      Array.from({ length: MEDIA_LIMITS.maxAttachmentsPerMessage + 1 }, () => upload(bob, randomBytes(64))),
    );
    const many = await b1.send(
      channelId,
      'too many',
      'c-bob-2',
      mine.map((m) => m.id),
    );
    expect(many.status).toBe(400);
    // Neither refusal attached anything: Alice's upload is still hers to send.
    expect((await a1.send(channelId, 'hers', 'c-file-3', [hers.id])).status).toBe(200);
    expect((await download(bob, hers.id)).status).toBe(200);
  }, 60_000);

  it('a send refused for a stale epoch gives its uploads back; the sweeper keeps attached uploads', async () => {
    const { alice, bob, a1, channelId } = await group();
    const up = await upload(alice, randomBytes(5_000));
    const lonely = await upload(alice, randomBytes(6_000));
    // Encrypted for the current epoch, then Alice's second device joins and the epoch moves on.
    const old = await a1.engine.encrypt(channelId, new TextEncoder().encode('late'));
    const a2 = await MlsDevice.create(ts.url, await loginDevice(ts.url, alice));
    await a2.joinExternally(channelId);
    const stale = await a1.call<Refusal>('POST', `/v1/channels/${channelId}/encrypted`, {
      clientMsgId: 'c-stale',
      ciphertext: Buffer.from(old).toString('base64'),
      attachments: [{ mediaId: up.id }],
    });
    expect(stale.status).toBe(409);
    expect(stale.body.error.code).toBe(ErrorCode.E2EE_STALE_EPOCH);
    expect((await download(bob, up.id)).status).toBe(404);
    // Given back: another message (another clientMsgId) may carry it.
    await a1.catchUp(channelId);
    const sent = await a1.send(channelId, 'late, again', 'c-other', [up.id]);
    expect(sent.status).toBe(200);
    expect(sent.body.message.attachments?.map((a: Attachment) => a.mediaId)).toEqual([up.id]);

    // Past the unattached TTL: the sweep removes the upload no message carries and keeps the attached one.
    clockAhead += 120_000;
    await media.sweep();
    expect((await download(alice, lonely.id)).status).toBe(404);
    expect((await download(bob, up.id)).status).toBe(200);
    expect((await download(a2.session, up.id)).status).toBe(200);
  }, 60_000);
});
