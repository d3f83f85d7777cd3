import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ChatClient, type ChatClientOptions } from '@natter/client';
import { LevelStore } from '@natter/client/level';
import type { Message } from '@natter/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { pdf } from './fixtures.js';
import { startMediaServer } from './helpers/media-server.js';
import { startTcpProxy } from './helpers/tcp-proxy.js';

const MIB = 1024 * 1024;
const CHUNK = 256 * 1024;
/** The meta key the SDK keeps unfinished tus uploads under (`RESUMABLE_UPLOADS_META_KEY`). */
const RESUME_KEY = 'natter.resumableUploads';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

function tempDir(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  cleanups.push(async () => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const portOf = (url: string) => Number(new URL(url).port);

/** A server behind a byte-counting proxy: clients keep one URL across server restarts. */
async function proxiedServer() {
  const server = await startMediaServer();
  const proxy = await startTcpProxy({ host: '127.0.0.1', port: portOf(server.url) });
  const live = { server, proxy };
  cleanups.push(async () => {
    await live.proxy.close();
    await live.server.close();
  });
  return { live, url: `http://127.0.0.1:${proxy.port}` };
}

function client(url: string, options: Partial<ChatClientOptions> = {}): ChatClient {
  const c = new ChatClient({
    url,
    WebSocket: WebSocket as never,
    codec: 'json',
    backoff: () => 100,
    ...options,
  });
  cleanups.push(() => c.close());
  return c;
}

/** Bytes the tus staging directory holds for unfinished uploads. */
function stagedBytes(dir: string): number {
  const staging = path.join(dir, 'uploads');
  if (!fs.existsSync(staging)) return 0;
  return fs
    .readdirSync(staging)
    .filter((name) => !name.endsWith('.json'))
    .reduce((sum, name) => sum + fs.statSync(path.join(staging, name)).size, 0);
}

async function until(check: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function savedResumes(storePath: string): Promise<Record<string, unknown>> {
  const store = new LevelStore(storePath);
  await store.open();
  try {
    return JSON.parse((await store.getMeta(RESUME_KEY)) ?? '{}') as Record<string, unknown>;
  } finally {
    await store.close();
  }
}

const bigFile = () => Buffer.concat([pdf(), randomBytes(6 * MIB)]);
const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

describe('resumable uploads across restarts', () => {
  it('an upload cut short by closing the client resumes in a new client on the same store, sending only the rest', async () => {
    const { live, url } = await proxiedServer();
    const storePath = path.join(tempDir('natter-resume-store-'), 'level');
    const first = client(url, { store: new LevelStore(storePath) });
    await first.signup('ada_resume', 'correct horse battery');
    const session = first.session!;
    const data = bigFile();

    let closing: Promise<void> | undefined;
    const cut = first.upload(data, {
      filename: 'big.pdf',
      resumableChunkBytes: CHUNK,
      onProgress: (sent) => {
        if (sent >= data.byteLength / 2) closing ??= first.close();
      },
    });
    await expect(cut).rejects.toMatchObject({ code: 'NATTER_CLIENT_CLOSED' });
    await closing;
    expect(stagedBytes(live.server.dir)).toBeGreaterThanOrEqual(data.byteLength / 2 - CHUNK);
    expect(Object.keys(await savedResumes(storePath))).toHaveLength(1);

    live.proxy.resetCount();
    const second = client(url, { store: new LevelStore(storePath), session });
    const media = await second.upload(data, { filename: 'big.pdf', resumableChunkBytes: CHUNK });
    expect(media).toMatchObject({ kind: 'file', mime: 'application/pdf', size: data.byteLength });
    expect(media.sourceSha256).toBe(sha256(data));
    // Only the rest crossed the wire (plus headers), not the whole file again.
    expect(live.proxy.bytesUp).toBeLessThan(data.byteLength * 0.6);
    expect(live.proxy.bytesUp).toBeGreaterThan(0);
    expect(await live.server.store.usage(session.user.id)).toBe(data.byteLength);
    await second.close();
    // Finished: the saved URL is forgotten, and nothing is left staged.
    expect(await savedResumes(storePath)).toEqual({});
    expect(stagedBytes(live.server.dir)).toBe(0);
  });

  it('a file sent while the server restarts mid-upload is resumed by a restarted client and sent exactly once', async () => {
    const { live, url } = await proxiedServer();
    const storePath = path.join(tempDir('natter-resume-outbox-'), 'level');
    const ada = client(url, { store: new LevelStore(storePath) });
    const bob = client(url);
    await ada.signup('ada_restart', 'correct horse battery');
    const bobUser = await bob.signup('bob_restart', 'correct horse battery');
    const channel = await ada.openDirect(bobUser.id);
    await ada.connect();
    const data = bigFile();
    const handle = await ada.sendFiles(
      channel.id,
      'the report',
      [{ data, filename: 'report.pdf', contentType: 'application/pdf' }],
      { resumableChunkBytes: CHUNK },
    );
    handle.acked.catch(() => undefined);

    // Halfway through, the server goes away (every connection cut) and restarts on the same data; the
    // app restarts too.
    await until(() => stagedBytes(live.server.dir) >= data.byteLength / 2);
    await live.proxy.cut();
    await live.server.stop();
    const session = ada.session!;
    await ada.close();
    const offset = stagedBytes(live.server.dir);
    expect(offset).toBeLessThan(data.byteLength);

    live.server = await startMediaServer({}, live.server.state);
    live.proxy.retarget({ host: '127.0.0.1', port: portOf(live.server.url) });
    await live.proxy.restore();
    live.proxy.resetCount();

    const received: Message[] = [];
    bob.on('message', ({ message }) => {
      if (message.clientMsgId === handle.message.clientMsgId) received.push(message);
    });
    await bob.connect();
    const restarted = client(url, { store: new LevelStore(storePath), session });
    await restarted.connect();
    await until(() => received.length > 0);

    const message = received[0]!;
    expect(message.text).toBe('the report');
    expect(message.senderId).toBe(session.user.id);
    expect(message.attachments).toMatchObject([
      { filename: 'report.pdf', mime: 'application/pdf', size: data.byteLength },
    ]);
    // Resumed from the restarted server's offset: fewer bytes than the file went up the second time.
    expect(live.proxy.bytesUp).toBeLessThan(data.byteLength - offset + 512 * 1024);
    expect(live.proxy.bytesUp).toBeLessThan(data.byteLength);
    // Exactly once: one message in the channel's history, one stored upload.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const history = await bob.history(channel.id);
    expect(history.messages.filter((m) => m.clientMsgId === handle.message.clientMsgId)).toHaveLength(1);
    expect(received).toHaveLength(1);
    expect(await live.server.store.usage(session.user.id)).toBe(data.byteLength);
  });
});
