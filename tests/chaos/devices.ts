import {
  ChatClient,
  type ChatClientOptions,
  type ClientStore,
  type WebSocketConstructor,
} from '@natter/client';
import WebSocket from 'ws';

/** Every client socket of this test process that is still open, so a test can kill them from the client side. */
export const openSockets = new Set<WebSocket>();

/** Client socket construction times (ms, `performance.now()`): the connect attempts of a reconnect storm. */
export const connectAttempts: number[] = [];

/** A `ws` WebSocket that registers itself in {@link openSockets} and {@link connectAttempts}. */
export const TrackedWebSocket = class extends WebSocket {
  constructor(url: string, protocols?: string | string[], options?: WebSocket.ClientOptions) {
    super(url, protocols, options);
    connectAttempts.push(performance.now());
    this.once('open', () => openSockets.add(this));
    this.once('close', () => openSockets.delete(this));
  }
} as unknown as WebSocketConstructor;

/** A message event as a device emitted it. */
export interface Received {
  pos: number;
  id: string;
  channelId: string;
  seq: number;
  kind: 'text' | 'system';
}

/** A ChatClient and everything it emitted. */
export interface Device {
  name: string;
  client: ChatClient;
  got: Received[];
  /** Ids of the text messages emitted, for quick counting. */
  texts: Set<string>;
  /** Text messages emitted twice (must stay 0). */
  duplicates: number;
}

/** A client of the server under test on real sockets, recording its `message` events. */
export function device(
  name: string,
  url: string,
  store: ClientStore,
  options: Partial<ChatClientOptions> = {},
): Device {
  const client = new ChatClient({
    url,
    store,
    WebSocket: TrackedWebSocket,
    backoff: { baseMs: 50, maxMs: 1_000 },
    requestTimeoutMs: 5_000,
    ...options,
  });
  const d: Device = { name, client, got: [], texts: new Set(), duplicates: 0 };
  client.on('message', ({ pos, message }) => {
    d.got.push({ pos, id: message.id, channelId: message.channelId, seq: message.seq, kind: message.kind });
    if (message.kind !== 'text') return;
    if (d.texts.has(message.id)) d.duplicates++;
    d.texts.add(message.id);
  });
  return d;
}

/** Checks one device's stream: positions 1..n once each, no message twice, seqs rising per channel. */
export function streamProblems(d: Device): string[] {
  const problems: string[] = [];
  d.got.forEach((r, i) => {
    if (r.pos !== i + 1 && problems.length < 5) problems.push(`${d.name}: event #${i} has pos ${r.pos}`);
  });
  const ids = new Set(d.got.map((r) => r.id));
  if (ids.size !== d.got.length)
    problems.push(`${d.name}: ${d.got.length - ids.size} messages emitted twice`);
  const lastSeq = new Map<string, number>();
  for (const r of d.got) {
    if ((lastSeq.get(r.channelId) ?? 0) >= r.seq && problems.length < 10) {
      problems.push(`${d.name}: ${r.channelId}#${r.seq} after #${lastSeq.get(r.channelId)}`);
    }
    lastSeq.set(r.channelId, r.seq);
  }
  return problems;
}

/** Resolves when `predicate` holds, polling; fails after `timeoutMs`. */
export async function waitFor(predicate: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!predicate()) {
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** A seeded PRNG (so a failing chaos run's fault pattern can be rerun with NATTER_CHAOS_SEED). */
export function lcg(seed: number): () => number {
  let s = seed % 2_147_483_647 || 1;
  return () => {
    s = (s * 16_807) % 2_147_483_647;
    return s / 2_147_483_647;
  };
}
