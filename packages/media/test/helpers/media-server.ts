import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createFsBlobStore } from '@natter/blob-fs';
import { type Message, SUBPROTOCOL_JSON } from '@natter/protocol';
import {
  type BlobStore,
  createNatterServer,
  type NatterServer,
  type StorageAdapter,
  silentLogger,
} from '@natter/server-core';
import { createMemoryStorage } from '@natter/storage-memory';
import WebSocket from 'ws';
import {
  createMedia,
  createSqliteMediaStore,
  type MediaOptions,
  type MediaService,
} from '../../src/index.js';

/** A user of the test server: id and access token. */
export interface TestUser {
  id: string;
  token: string;
}

/** What a restarted server keeps: its data directory and its chat storage (a database that outlives it). */
export interface MediaServerState {
  dir: string;
  storage: StorageAdapter;
}

/**
 * A natter server on 127.0.0.1 with media over a filesystem blob store and the SQLite media store. Given
 * `state` (the `state` of an earlier server, stopped with `stop()`), it starts on the same data directory
 * and chat storage: a server restart.
 */
export async function startMediaServer(options: Partial<MediaOptions> = {}, state?: MediaServerState) {
  const dir = state?.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'natter-media-server-'));
  const storage = state?.storage ?? createMemoryStorage();
  const blobs: BlobStore =
    options.blobs ?? createFsBlobStore({ root: path.join(dir, 'blobs'), fsync: false });
  const store = options.store ?? createSqliteMediaStore({ path: path.join(dir, 'media.sqlite') });
  let service: MediaService | undefined;
  const factory = createMedia({
    blobs,
    store,
    pipeline: { tempDir: path.join(dir, 'tmp'), ffmpeg: false },
    tus: { stagingDir: path.join(dir, 'uploads') },
    blobGraceMs: 0,
    ...options,
  });
  const server: NatterServer = createNatterServer({
    storage,
    tokens: { secret: 'media-test-secret-media-test-secret-0123' },
    logger: silentLogger(),
    media: (context) => {
      service = factory(context) as MediaService;
      return service;
    },
  });
  const { url } = await server.listen(0, '127.0.0.1');

  async function api(
    user: TestUser | undefined,
    method: string,
    route: string,
    body?: unknown,
  ): Promise<Response> {
    return fetch(`${url}${route}`, {
      method,
      headers: {
        ...(user ? { authorization: `Bearer ${user.token}` } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
  }

  return {
    url,
    dir,
    state: { dir, storage } satisfies MediaServerState,
    blobs,
    store,
    get service(): MediaService {
      if (!service) throw new Error('media not built');
      return service;
    },
    api,
    async signup(username: string): Promise<TestUser> {
      const res = await api(undefined, 'POST', '/v1/auth/signup', {
        username,
        password: 'correct horse battery',
        displayName: username,
      });
      if (res.status !== 201) throw new Error(`signup ${res.status}: ${await res.text()}`);
      const session = (await res.json()) as { user: { id: string }; accessToken: string };
      return { id: session.user.id, token: session.accessToken };
    },
    async direct(user: TestUser, peer: TestUser): Promise<string> {
      const res = await api(user, 'POST', '/v1/channels/direct', { userId: peer.id });
      return ((await res.json()) as { channel: { id: string } }).channel.id;
    },
    upload(user: TestUser, bytes: Uint8Array, contentType: string, filename?: string): Promise<Response> {
      return fetch(`${url}/v1/media${filename ? `?filename=${encodeURIComponent(filename)}` : ''}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${user.token}`, 'content-type': contentType },
        body: bytes,
      });
    },
    /** Sends one message over a WebSocket and answers the server's reply frame (ack or error). */
    async send(
      user: TestUser,
      frame: Record<string, unknown>,
    ): Promise<{ t: string; entry?: { message: Message }; code?: string }> {
      const ws = new WebSocket(
        `${url.replace('http', 'ws')}/v1/ws?access_token=${user.token}`,
        SUBPROTOCOL_JSON,
      );
      try {
        await new Promise((resolve, reject) => ws.once('message', resolve).once('error', reject));
        const reply = new Promise<Record<string, unknown>>((resolve) =>
          ws.on('message', (data) => {
            const parsed = JSON.parse(String(data)) as Record<string, unknown>;
            if (parsed.rid === 1) resolve(parsed);
          }),
        );
        ws.send(JSON.stringify({ t: 'send', rid: 1, ...frame }));
        return (await reply) as { t: string; entry?: { message: Message }; code?: string };
      } finally {
        ws.close();
      }
    },
    /** Stops the server and keeps its data (for a restart with `state`). */
    async stop() {
      await server.close();
    },
    async close() {
      await server.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
