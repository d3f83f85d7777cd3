import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { Upload } from 'tus-js-client';
import { afterEach, describe, expect, it } from 'vitest';
import { type CompletedUpload, createTusUploads, type TusUploadOptions } from '../src/index.js';
import { pdf, smallPng, testPipeline } from './fixtures.js';

const MIB = 1024 * 1024;

/** Serves a fetch-style handler over real HTTP on 127.0.0.1, as the reference server's node adapter does. */
async function serve(
  handle: (request: Request) => Promise<Response>,
): Promise<{ url: string; server: Server }> {
  const server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    const hasBody = req.method !== 'GET' && req.method !== 'HEAD';
    const request = new Request(`http://${req.headers.host}${req.url}`, {
      method: req.method,
      headers: req.headers as Record<string, string>,
      body: hasBody ? (Readable.toWeb(req) as ReadableStream<Uint8Array>) : undefined,
      duplex: 'half',
    } as RequestInit);
    const response = await handle(request);
    res.writeHead(response.status, Object.fromEntries(response.headers));
    res.end(Buffer.from(await response.arrayBuffer()));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}/v1/media/uploads`, server };
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

/** A tus endpoint over a fresh pipeline; the bearer token is the user id. */
async function setup(overrides: Partial<TusUploadOptions> = {}) {
  const harness = await testPipeline({ maxUploadBytes: 8 * MIB });
  const stagingDir = fs.mkdtempSync(path.join(os.tmpdir(), 'natter-tus-'));
  const completed: CompletedUpload[] = [];
  const uploads = createTusUploads({
    pipeline: harness.pipeline,
    stagingDir,
    authenticate: async (request) => request.headers.get('authorization')?.replace(/^Bearer /, '') || null,
    onComplete: async (upload) => {
      completed.push(upload);
      return { id: `m-${completed.length}`, mime: upload.media.mime, size: upload.media.size };
    },
    ...overrides,
  });
  const { url, server } = await serve(uploads.handle);
  cleanups.push(async () => {
    await new Promise((resolve) => server.close(resolve));
    // @tus/file-store's constructor checks its directory with a callback it never awaits (and throws
    // from): removing the directory under a still pending check would crash the test process.
    await new Promise((resolve) => setTimeout(resolve, 50));
    fs.rmSync(stagingDir, { recursive: true, force: true });
    await harness.cleanup();
  });
  const staged = () => fs.readdirSync(stagingDir).filter((name) => !name.endsWith('.json'));
  return { uploads, url, completed, stagingDir, staged, harness };
}

interface Outcome {
  status: number;
  body: string;
  url: string | null;
}

/** Runs a tus-js-client upload to the end (or its error) and reports the last answer. */
function upload(
  url: string,
  data: Buffer,
  options: {
    user?: string;
    chunkSize?: number;
    uploadUrl?: string;
    filename?: string;
    filetype?: string;
  } = {},
): Promise<Outcome> {
  return new Promise((resolve) => {
    const client: Upload = new Upload(data, {
      endpoint: url,
      uploadUrl: options.uploadUrl,
      chunkSize: options.chunkSize ?? MIB,
      retryDelays: [],
      headers: options.user ? { Authorization: `Bearer ${options.user}` } : {},
      metadata: {
        filename: options.filename ?? 'file.bin',
        filetype: options.filetype ?? 'application/octet-stream',
      },
      onSuccess: ({ lastResponse }) =>
        resolve({ status: lastResponse.getStatus(), body: lastResponse.getBody(), url: client.url }),
      onError: (error) => {
        const response = (error as { originalResponse?: { getStatus(): number; getBody(): string } | null })
          .originalResponse;
        resolve({
          status: response?.getStatus() ?? 0,
          body: response?.getBody() ?? String(error),
          url: client.url,
        });
      },
    });
    client.start();
  });
}

/** Starts an upload and aborts it after `bytes` have been acknowledged; resolves its URL. */
function uploadPart(url: string, data: Buffer, user: string, bytes: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const client: Upload = new Upload(data, {
      endpoint: url,
      chunkSize: 512 * 1024,
      retryDelays: [],
      headers: { Authorization: `Bearer ${user}` },
      metadata: { filename: 'big.pdf', filetype: 'application/pdf' },
      onChunkComplete: (_chunk, accepted) => {
        if (accepted >= bytes) void client.abort().then(() => resolve(client.url!));
      },
      onError: reject,
    });
    client.start();
  });
}

describe('tus resumable uploads', () => {
  it('ingests a finished upload and answers what onComplete returns', async () => {
    const { url, completed, staged } = await setup();
    const data = Buffer.concat([pdf(), randomBytes(3 * MIB)]);
    const outcome = await upload(url, data, {
      user: 'alice',
      filename: '../secret/report.pdf',
      filetype: 'text/html',
    });
    expect(outcome.status).toBe(200);
    expect(JSON.parse(outcome.body)).toEqual({ id: 'm-1', mime: 'application/pdf', size: data.byteLength });
    expect(completed).toHaveLength(1);
    expect(completed[0]).toMatchObject({
      userId: 'alice',
      media: {
        kind: 'file',
        mime: 'application/pdf',
        filename: 'report.pdf',
        source: { declaredType: 'text/html' },
      },
    });
    expect(staged()).toEqual([]);
  });

  it('resumes an interrupted upload where it stopped', async () => {
    const { url, completed } = await setup();
    const data = Buffer.concat([pdf(), randomBytes(4 * MIB)]);
    const uploadUrl = await uploadPart(url, data, 'alice', 2 * MIB);
    const head = await fetch(uploadUrl, {
      method: 'HEAD',
      headers: { 'Tus-Resumable': '1.0.0', Authorization: 'Bearer alice' },
    });
    const offset = Number(head.headers.get('upload-offset'));
    expect(offset).toBeGreaterThanOrEqual(2 * MIB);
    expect(offset).toBeLessThan(data.byteLength);

    const outcome = await upload(url, data, { user: 'alice', uploadUrl });
    expect(outcome.status).toBe(200);
    expect(completed[0]!.media.size).toBe(data.byteLength);
    expect(completed[0]!.media.sha256).toBe(
      (await import('node:crypto')).createHash('sha256').update(data).digest('hex'),
    );
  });

  it('processes a finished image like a plain upload', async () => {
    const { url, completed } = await setup();
    const outcome = await upload(url, await smallPng(500, 300), { user: 'alice', filetype: 'image/png' });
    expect(outcome.status).toBe(200);
    expect(completed[0]!.media).toMatchObject({ kind: 'image', mime: 'image/png', width: 500, height: 300 });
    expect(completed[0]!.media.thumbnails).toHaveLength(2);
  });

  it('refuses requests without credentials with 401', async () => {
    const { url, staged } = await setup();
    const outcome = await upload(url, pdf());
    expect(outcome.status).toBe(401);
    expect(JSON.parse(outcome.body)).toMatchObject({ error: { code: 'NATTER_UNAUTHORIZED' } });
    expect(staged()).toEqual([]);
  });

  it('answers 404 to anyone but the creator of an upload', async () => {
    const { url } = await setup();
    const data = Buffer.concat([pdf(), randomBytes(2 * MIB)]);
    const uploadUrl = await uploadPart(url, data, 'alice', 512 * 1024);
    const as = (user: string) => ({ 'Tus-Resumable': '1.0.0', Authorization: `Bearer ${user}` });
    expect((await fetch(uploadUrl, { method: 'HEAD', headers: as('mallory') })).status).toBe(404);
    const patch = await fetch(uploadUrl, {
      method: 'PATCH',
      headers: {
        ...as('mallory'),
        'Content-Type': 'application/offset+octet-stream',
        'Upload-Offset': '524288',
      },
      body: randomBytes(1_000),
    });
    expect(patch.status).toBe(404);
    expect((await fetch(uploadUrl, { method: 'DELETE', headers: as('mallory') })).status).toBe(404);
    // Alice's upload is untouched; a client of mallory's told to resume it starts an upload of its own.
    const head = await fetch(uploadUrl, { method: 'HEAD', headers: as('alice') });
    expect(head.status).toBe(200);
    expect(Number(head.headers.get('upload-offset'))).toBeGreaterThanOrEqual(512 * 1024);
    const outcome = await upload(url, data, { user: 'mallory', uploadUrl });
    expect(outcome.url).not.toBe(uploadUrl);
  });

  it('refuses an Upload-Length over the limit at creation with 413', async () => {
    const { url, staged } = await setup();
    const outcome = await upload(url, randomBytes(9 * MIB), { user: 'alice' });
    expect(outcome.status).toBe(413);
    expect(staged()).toEqual([]);
  });

  it('runs the pipeline checks on completion: a type outside the allowlist answers 415 and is not kept', async () => {
    const harness = await testPipeline({ allowedTypes: ['image/*'] });
    cleanups.push(harness.cleanup);
    const { url, completed, staged } = await setup({ pipeline: harness.pipeline });
    const outcome = await upload(url, pdf(), { user: 'alice', filetype: 'image/png' });
    expect(outcome.status).toBe(415);
    expect(JSON.parse(outcome.body)).toMatchObject({ error: { code: 'NATTER_MEDIA_TYPE_NOT_ALLOWED' } });
    expect(completed).toEqual([]);
    expect(staged()).toEqual([]);
    expect(await harness.keys()).toEqual([]);
  });

  it('sweeps an upload abandoned halfway once it expires, and the client can no longer resume it', async () => {
    const { url, uploads, staged } = await setup({ expireAfterMs: 300 });
    const data = Buffer.concat([pdf(), randomBytes(2 * MIB)]);
    const uploadUrl = await uploadPart(url, data, 'alice', MIB);
    expect(staged()).toHaveLength(1);
    expect(await uploads.sweepExpired()).toBe(0);
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(await uploads.sweepExpired()).toBe(1);
    expect(staged()).toEqual([]);
    const head = await fetch(uploadUrl, {
      method: 'HEAD',
      headers: { 'Tus-Resumable': '1.0.0', Authorization: 'Bearer alice' },
    });
    expect([404, 410]).toContain(head.status);
  });
});
