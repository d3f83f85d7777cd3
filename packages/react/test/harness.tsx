/**
 * A real natter node on 127.0.0.1 (memory storage) and React rendering into the DOM of the test
 * environment (happy-dom), for hook and component tests without mocks.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createFsBlobStore } from '@natter/blob-fs';
import { ChatClient, type ChatClientOptions, type WebSocketConstructor } from '@natter/client';
import { createMedia, createSqliteMediaStore } from '@natter/media';
import { createNatterServer, type NatterServer, silentLogger } from '@natter/server-core';
import { createMemoryStorage } from '@natter/storage-memory';
import type { ReactNode } from 'react';
import { flushSync } from 'react-dom';
import { createRoot, type Root } from 'react-dom/client';
import WebSocket from 'ws';
import { NatterProvider } from '../src/index.js';

// Updates come from a real server at any moment, not from act() blocks: tests wait for what they expect.
(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = false;

/** A running node. */
export interface TestServer {
  server: NatterServer;
  url: string;
  stop(): Promise<void>;
}

/**
 * Starts a node on a random port of 127.0.0.1, with limits loose enough for seeding; with `media`, uploads
 * go through the real pipeline (sharp thumbnails, ThumbHash) into a filesystem blob store in a temp dir.
 */
export async function startServer(options: { media?: boolean } = {}): Promise<TestServer> {
  const dir = options.media ? fs.mkdtempSync(path.join(os.tmpdir(), 'natter-react-media-')) : undefined;
  const media = dir
    ? createMedia({
        blobs: createFsBlobStore({ root: path.join(dir, 'blobs'), fsync: false }),
        store: createSqliteMediaStore({ path: path.join(dir, 'media.sqlite') }),
        pipeline: { tempDir: path.join(dir, 'tmp'), ffmpeg: false },
        tus: { stagingDir: path.join(dir, 'uploads') },
      })
    : undefined;
  const server = createNatterServer({
    ...(media ? { media } : {}),
    storage: createMemoryStorage(),
    tokens: { secret: 'react-test-secret-0123456789abcdef0123' },
    limits: { sendsPerSecond: 5_000, sendBurst: 5_000 },
    // The DOM environment's fetch sends an Origin header.
    allowedOrigins: '*',
    logger: silentLogger(),
  });
  const { url } = await server.listen(0, '127.0.0.1');
  return {
    server,
    url,
    stop: async () => {
      await server.close();
      if (dir) fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A client of the test node with quick reconnects, on Node's `ws`. */
export function makeClient(url: string, options: Partial<ChatClientOptions> = {}): ChatClient {
  return new ChatClient({
    url,
    WebSocket: WebSocket as unknown as WebSocketConstructor,
    backoff: { baseMs: 20, maxMs: 200 },
    requestTimeoutMs: 5_000,
    ...options,
  });
}

/** Signs a new user up and connects; resolves once synced. */
export async function signedIn(url: string, username: string, options: Partial<ChatClientOptions> = {}) {
  const client = makeClient(url, options);
  const user = await client.signup(username, `password-${username}`);
  await client.connect();
  await client.whenSynced();
  return { client, user };
}

/** A mounted React tree. */
export interface Mounted {
  container: HTMLElement;
  rerender(node: ReactNode): Promise<void>;
  unmount(): Promise<void>;
}

/** Renders `node` under a provider for `client`. */
export async function mount(client: ChatClient, node: ReactNode): Promise<Mounted> {
  const container = document.createElement('div');
  document.body.append(container);
  const wrap = (inner: ReactNode) => <NatterProvider client={client}>{inner}</NatterProvider>;
  const root: Root = createRoot(container);
  flushSync(() => root.render(wrap(node)));
  await tick(0);
  return {
    container,
    rerender: async (next) => {
      flushSync(() => root.render(wrap(next)));
      await tick();
    },
    unmount: async () => {
      root.unmount();
      container.remove();
      await tick();
    },
  };
}

/**
 * Waits until `predicate` holds, letting React flush in between; fails after `timeoutMs` with `what`.
 */
export async function until(
  predicate: () => boolean,
  what: string,
  timeoutMs = 10_000,
  pollMs = 10,
): Promise<void> {
  const start = Date.now();
  while (!predicate()) {
    if (Date.now() - start > timeoutMs)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}

/** Lets timers, promises and React's scheduled renders run. */
export function tick(ms = 10): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Calls `use` (a hook) on every render and hands its value to `report`; renders nothing. */
export function Probe<T>({ use, report }: { use: () => T; report: (value: T) => void }): null {
  report(use());
  return null;
}

/** A hook's latest value while mounted under a provider for `client`. */
export interface Watched<T> {
  readonly current: T;
  /** Renders so far. */
  readonly renders: number;
  /** Renders again (after the test changed what `use` reads). */
  rerender(): Promise<void>;
  unmount(): Promise<void>;
}

/** Mounts a {@link Probe} for the hook `use` and follows its value. */
export async function watchHook<T>(client: ChatClient, use: () => T): Promise<Watched<T>> {
  let current: T | undefined;
  let renders = 0;
  const report = (value: T) => {
    current = value;
    renders++;
  };
  const mounted = await mount(client, <Probe use={use} report={report} />);
  return {
    rerender: () => mounted.rerender(<Probe use={use} report={report} />),
    get current() {
      return current as T;
    },
    get renders() {
      return renders;
    },
    unmount: () => mounted.unmount(),
  };
}
