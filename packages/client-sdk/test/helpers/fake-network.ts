import {
  type Codec,
  DEFAULT_LIMITS,
  type HelloFrame,
  jsonCodec,
  type Message,
  type MessageEntry,
  type ServerFrame,
} from '@natter/protocol';
import type { WebSocketConstructor, WebSocketLike } from '../../src/transport.js';

type Handler = ((event: never) => void) | null;
type ClientFrame = { t: string; rid: number } & Record<string, unknown>;

/**
 * A test double for the network: an in-process WebSocket whose far end is a {@link FakeServer}. The server
 * decides when a socket opens, what it answers and when it closes.
 */
export class FakeSocket implements WebSocketLike {
  readyState = 0;
  protocol = '';
  binaryType = 'blob';
  onopen: Handler = null;
  onmessage: Handler = null;
  onclose: Handler = null;
  onerror: Handler = null;
  /** Frames the client sent, decoded. */
  readonly received: ClientFrame[] = [];
  closedByClient: { code?: number; reason?: string } | undefined;

  constructor(
    readonly url: string,
    readonly protocols: string | string[] | undefined,
    readonly options: { headers?: Record<string, string> } | undefined,
    private readonly server: FakeServer,
  ) {
    server.sockets.push(this);
    queueMicrotask(() => server.onConnect(this));
  }

  /** Query parameters of the URL the client opened. */
  get params(): URLSearchParams {
    return new URL(this.url).searchParams;
  }

  send(data: string | Uint8Array): void {
    if (this.readyState !== 1) throw new Error('socket not open');
    const frame = this.server.codec.decode(data, typeof data !== 'string') as ClientFrame;
    this.received.push(frame);
    this.server.onFrame(this, frame);
  }

  close(code?: number, reason?: string): void {
    if (this.readyState >= 2) return;
    this.closedByClient = {
      ...(code !== undefined ? { code } : {}),
      ...(reason !== undefined ? { reason } : {}),
    };
    this.readyState = 3;
    const onclose = this.onclose as ((e: { code: number; reason: string }) => void) | null;
    queueMicrotask(() => onclose?.({ code: code ?? 1005, reason: reason ?? '' }));
  }

  // ---- the server's side ----

  /** Completes the WebSocket handshake. */
  accept(): void {
    this.readyState = 1;
    this.protocol = Array.isArray(this.protocols) ? (this.protocols[0] ?? '') : (this.protocols ?? '');
    (this.onopen as ((e: unknown) => void) | null)?.({});
  }

  /** Pushes a server frame to the client. */
  push(frame: ServerFrame | Record<string, unknown>): void {
    if (this.readyState !== 1) return;
    const data = this.server.codec.encode(frame);
    const payload =
      typeof data === 'string' ? data : data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength);
    (this.onmessage as ((e: { data: unknown }) => void) | null)?.({ data: payload });
  }

  /** Closes from the server's side with a close code. */
  serverClose(code: number, reason = ''): void {
    if (this.readyState === 3) return;
    this.readyState = 3;
    (this.onclose as ((e: { code: number; reason: string }) => void) | null)?.({ code, reason });
  }

  /** Fails the handshake (like an HTTP error at upgrade). */
  refuse(message = 'Unexpected server response: 401'): void {
    this.readyState = 3;
    (this.onerror as ((e: { message: string }) => void) | null)?.({ message });
    (this.onclose as ((e: { code: number; reason: string }) => void) | null)?.({ code: 1006, reason: '' });
  }

  /** The last frame of type `t` the client sent. */
  last(t: string): ClientFrame | undefined {
    return [...this.received].reverse().find((f) => f.t === t);
  }
}

/** A scripted server. Override `onConnect`/`onFrame`, or use the defaults (accept + hello, answer pings). */
export class FakeServer {
  readonly sockets: FakeSocket[] = [];
  codec: Codec = jsonCodec;
  hello: Omit<HelloFrame, 't'> = {
    protocol: 1,
    userId: 'u_1',
    deviceId: 'dev_1',
    sessionId: 's_1',
    epoch: 'E1',
    head: 0,
    limits: { ...DEFAULT_LIMITS },
    serverTime: 0,
  };
  autoAccept = true;
  autoHello = true;
  answerPings = true;
  /** Extra frame handling for tests. */
  handle: ((socket: FakeSocket, frame: ClientFrame) => void) | undefined;

  /** The constructor to inject as the `WebSocket` option. */
  get WebSocket(): WebSocketConstructor {
    const server = this;
    return class extends FakeSocket {
      constructor(
        url: string,
        protocols?: string | string[],
        options?: { headers?: Record<string, string> },
      ) {
        super(url, protocols, options, server);
      }
    };
  }

  /** The newest socket. */
  get current(): FakeSocket {
    const socket = this.sockets.at(-1);
    if (!socket) throw new Error('no socket yet');
    return socket;
  }

  onConnect(socket: FakeSocket): void {
    if (!this.autoAccept) return;
    socket.accept();
    if (this.autoHello) socket.push({ t: 'hello', ...this.hello });
  }

  onFrame(socket: FakeSocket, frame: ClientFrame): void {
    if (frame.t === 'ping' && this.answerPings) socket.push({ t: 'pong', rid: frame.rid, serverTime: 0 });
    this.handle?.(socket, frame);
  }
}

/** A text message with the given channel sequence. */
export function message(channelId: string, seq: number, extra: Partial<Message> = {}): Message {
  return {
    id: `m_${channelId}_${seq}`,
    channelId,
    seq,
    senderId: 'u_2',
    clientMsgId: null,
    kind: 'text',
    text: `text ${seq}`,
    mentions: [],
    system: null,
    createdAt: 1_000 + seq,
    ...extra,
  };
}

/** A sync entry at `pos` carrying message `seq` of `channelId` (seq defaults to pos). */
export function entry(pos: number, channelId = 'g_1', seq = pos, extra: Partial<Message> = {}): MessageEntry {
  return { pos, kind: 'message', message: message(channelId, seq, extra) };
}

/** Waits for pending microtasks and zero-delay timers a few rounds. */
export async function flush(rounds = 5): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise((resolve) => setTimeout(resolve, 0));
}

/** Resolves when `predicate` holds, polling; fails after `timeoutMs`. */
export async function until(predicate: () => boolean, timeoutMs = 2_000, what = 'condition'): Promise<void> {
  const start = Date.now();
  while (!predicate()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}
