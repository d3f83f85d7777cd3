import { ChatClient, type ChatClientOptions, MemoryStore, type WebSocketConstructor } from '@natter/client';
import { internalsOf } from '@natter/server-core/internals';
import WebSocket from 'ws';
import type { InProcessNode } from './cluster.js';

/** A connect attempt: which device opened a socket to which URL, and when (`performance.now()`). */
export interface Attempt {
  deviceId: string;
  url: string;
  at: number;
}

/** Every socket any crowd client constructed, in order. */
export const attempts: Attempt[] = [];

/** A `ws` WebSocket that records each construction in {@link attempts} (the device comes from `?device=`). */
const TrackedWebSocket = class extends WebSocket {
  constructor(url: string, protocols?: string | string[], options?: WebSocket.ClientOptions) {
    super(url, protocols, options);
    const deviceId = /[?&]device=([^&]+)/.exec(url)?.[1] ?? '';
    attempts.push({ deviceId: decodeURIComponent(deviceId), url, at: performance.now() });
  }
} as unknown as WebSocketConstructor;

/** One member of a crowd: a user with one device, paired with another member in a direct channel. */
export interface Member {
  index: number;
  userId: string;
  deviceId: string;
  token: string;
  peer: number;
  channelId: string;
  client: ChatClient;
  /** `performance.now()` of every `open` state of this client. */
  opens: number[];
  /** Ids of text messages this client received, with how often. */
  received: Map<string, number>;
}

/**
 * Creates `count` users (an even number) straight in the shared store, each with an access token and a direct
 * channel with its pair, and one ChatClient per user pointed at the API node with `discovery: true` and the
 * SDK's default reconnect settings (what is under test). The clients are not connected yet.
 */
export async function createCrowd(
  api: InProcessNode,
  count: number,
  label: string,
  options: Partial<ChatClientOptions> = {},
): Promise<Member[]> {
  const { server } = api;
  const tokens = internalsOf(server).tokens;
  if (!tokens) throw new Error('the API node needs the built-in token service');
  const members: Member[] = [];
  for (let i = 0; i < count; i++) {
    const userId = `u_${label}${i}`;
    const deviceId = `d_${label}${i}`;
    await internalsOf(server).storage.accounts.createUser({
      id: userId,
      username: `${label}${i}`,
      displayName: `${label}${i}`,
      passwordHash: null,
      createdAt: Date.now(),
    });
    const { accessToken } = await tokens.issue(userId, deviceId);
    const client = new ChatClient({
      url: api.url,
      discovery: true,
      store: new MemoryStore(),
      deviceId,
      getToken: () => accessToken,
      WebSocket: TrackedWebSocket,
      deliveryReceipts: false,
      ...options,
    });
    const member: Member = {
      index: i,
      userId,
      deviceId,
      token: accessToken,
      peer: i % 2 === 0 ? i + 1 : i - 1,
      channelId: '',
      client,
      opens: [],
      received: new Map(),
    };
    client.on('state', (change) => {
      if (change.status === 'open') member.opens.push(performance.now());
    });
    client.on('message', ({ message }) => {
      if (message.kind === 'text')
        member.received.set(message.id, (member.received.get(message.id) ?? 0) + 1);
    });
    members.push(member);
  }
  for (let i = 0; i + 1 < count; i += 2) {
    const channel = await internalsOf(server).service.openDirect(members[i]!.userId, members[i + 1]!.userId);
    members[i]!.channelId = channel.id;
    members[i + 1]!.channelId = channel.id;
  }
  return members;
}

/** Connects the crowd in waves (so the first connect is not itself a storm) and waits until each is synced. */
export async function connectCrowd(members: readonly Member[], wave = 50): Promise<void> {
  for (let i = 0; i < members.length; i += wave) {
    const batch = members.slice(i, i + wave);
    await Promise.all(batch.map((m) => m.client.connect()));
    await Promise.all(batch.map((m) => m.client.whenSynced()));
  }
}

/** Resolves when `predicate` holds, polling every 20 ms; fails after `timeoutMs`. */
export async function waitUntil(predicate: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!predicate()) {
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** The value at quantile `q` (0..1) of `values`, nearest rank. */
export function quantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? Number.NaN;
}
