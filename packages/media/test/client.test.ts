import { ChatClient } from '@natter/client';
import type { Message } from '@natter/protocol';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { noisyPng, pdf, smallPng } from './fixtures.js';
import { startMediaServer } from './helpers/media-server.js';

let server: Awaited<ReturnType<typeof startMediaServer>>;
const clients: ChatClient[] = [];

beforeAll(async () => {
  server = await startMediaServer();
});
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
});
afterAll(async () => {
  await server.close();
});

function client(): ChatClient {
  const c = new ChatClient({
    url: server.url,
    WebSocket: WebSocket as never,
    codec: 'json',
    backoff: () => 100,
  });
  clients.push(c);
  return c;
}

function nextMessage(c: ChatClient, match: (m: Message) => boolean, timeoutMs = 5_000): Promise<Message> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no message')), timeoutMs);
    c.on('message', ({ message }) => {
      if (!match(message)) return;
      clearTimeout(timer);
      resolve(message);
    });
  });
}

describe('client SDK media', () => {
  it('a user sends a photo and a PDF; the other side gets placeholder, thumbnail and full image; a stranger gets 404', async () => {
    const ada = client();
    const bob = client();
    const eve = client();
    await ada.signup('ada_c', 'correct horse battery');
    const bobUser = await bob.signup('bob_c', 'correct horse battery');
    await eve.signup('eve_c', 'correct horse battery');
    await Promise.all([ada.connect(), bob.connect()]);
    const channel = await ada.openDirect(bobUser.id);

    const progress: number[] = [];
    const png = await smallPng(1200, 900);
    const photo = await ada.upload(png, { filename: 'photo.png', onProgress: (sent) => progress.push(sent) });
    expect(progress.at(-1)).toBe(png.byteLength);
    const file = await ada.upload(pdf(), { filename: 'report.pdf', contentType: 'application/pdf' });

    const received = nextMessage(bob, (m) => m.channelId === channel.id && (m.attachments?.length ?? 0) > 0);
    const { acked } = ada.send(channel.id, 'holiday', {
      attachments: [{ mediaId: photo.id }, { mediaId: file.id }],
    });
    await acked;
    const message = await received;
    expect(message.attachments?.map((a) => a.kind)).toEqual(['image', 'file']);
    const [image, doc] = message.attachments!;
    expect(image!.placeholder).toBe(photo.placeholder);
    expect(doc).toMatchObject({ filename: 'report.pdf', mime: 'application/pdf' });

    const thumbUrl = await bob.mediaUrl(image!.mediaId, { thumbnailSize: 320 });
    const thumb = await fetch(thumbUrl);
    expect(thumb.status).toBe(200);
    expect(thumb.headers.get('content-type')).toBe('image/webp');
    const full = await fetch(await bob.mediaUrl(image!.mediaId));
    expect(full.headers.get('content-type')).toBe('image/png');
    const pdfUrl = await bob.mediaUrl(doc!.mediaId);
    expect((await fetch(pdfUrl)).headers.get('content-disposition')).toMatch(
      /^attachment; filename="report.pdf"/,
    );

    for (const id of [image!.mediaId, doc!.mediaId]) {
      await expect(eve.mediaUrl(id)).rejects.toMatchObject({ code: 'NATTER_NOT_FOUND' });
    }
  });

  it('deleting the message makes its media unreachable for every member and erases it from history', async () => {
    const ada = client();
    const bob = client();
    await ada.signup('ada_d', 'correct horse battery');
    const bobUser = await bob.signup('bob_d', 'correct horse battery');
    await Promise.all([ada.connect(), bob.connect()]);
    const channel = await ada.openDirect(bobUser.id);
    const photo = await ada.upload(await smallPng(640, 480), { filename: 'gone.png' });
    const received = nextMessage(bob, (m) => m.channelId === channel.id && (m.attachments?.length ?? 0) > 0);
    const { acked } = ada.send(channel.id, 'soon gone', { attachments: [{ mediaId: photo.id }] });
    const { seq } = await acked;
    await received;
    const signed = await bob.mediaUrl(photo.id);
    expect((await fetch(signed)).status).toBe(200);

    await ada.delete(channel.id, seq);

    // The URL signed before the delete, a new URL and the uploader's own access: all as for a missing id.
    expect((await fetch(signed)).status).toBe(404);
    await expect(bob.mediaUrl(photo.id)).rejects.toMatchObject({ code: 'NATTER_NOT_FOUND' });
    await expect(ada.mediaUrl(photo.id)).rejects.toMatchObject({ code: 'NATTER_NOT_FOUND' });
    const page = await bob.history(channel.id);
    const tombstone = page.messages.find((m) => m.seq === seq);
    expect(tombstone?.deletedAt).toBeDefined();
    expect(tombstone?.attachments).toBeUndefined();
    expect(tombstone?.text).toBe('');
  });

  it('files chosen while offline stay with the outbox entry and are uploaded and sent once when connected', async () => {
    const ada = client();
    const bob = client();
    await ada.signup('ada_o', 'correct horse battery');
    const bobUser = await bob.signup('bob_o', 'correct horse battery');
    const channel = await ada.openDirect(bobUser.id);
    await bob.connect();
    // Not connected: the send waits in the outbox with its file.
    const handle = await ada.sendFiles(channel.id, '', [
      { data: await smallPng(64, 64), filename: 'offline.png' },
    ]);
    expect(handle.message.status).toBe('pending');
    const received = nextMessage(bob, (m) => m.channelId === channel.id && m.kind === 'text');
    await ada.connect();
    const ack = await handle.acked;
    const message = await received;
    expect(message.attachments).toHaveLength(1);
    expect(message.attachments![0]!.filename).toBe('offline.png');
    expect(ack.seq).toBe(message.seq);
    const records = await Promise.all([server.store.usage(ada.userId!)]);
    expect(records[0]).toBeGreaterThan(0);
  });

  it('uploads resumably over tus in pieces, with progress, and answers the same upload body', async () => {
    const ada = client();
    await ada.signup('ada_t', 'correct horse battery');
    const png = await noisyPng(400, 300);
    const progress: number[] = [];
    const media = await ada.upload(png, {
      filename: 'noisy.png',
      contentType: 'image/png',
      resumableChunkBytes: 64 * 1024,
      onProgress: (sent) => progress.push(sent),
    });
    expect(media).toMatchObject({ kind: 'image', mime: 'image/png', filename: 'noisy.png', width: 400 });
    expect(new Set(progress).size).toBeGreaterThan(2);
    expect(progress.at(-1)).toBe(png.byteLength);
  });
});
