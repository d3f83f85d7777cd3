import {
  type ClientFrame,
  type Codec,
  type HelloFrame,
  isMessageEntry,
  jsonCodec,
  type MessageEntry,
  msgpackCodec,
  type ServerFrame,
  SUBPROTOCOL_JSON,
  SUBPROTOCOL_MSGPACK,
} from '@natter/protocol';
import WebSocket from 'ws';

type Outgoing = ClientFrame extends infer F ? (F extends { rid: number } ? Omit<F, 'rid'> : never) : never;

/** A raw protocol client for tests: speaks frames directly, records everything it receives. */
export class RawClient {
  readonly frames: ServerFrame[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  hello!: HelloFrame;
  private nextRid = 1;
  private readonly waiters = new Set<{
    match: (f: ServerFrame) => boolean;
    resolve: (f: ServerFrame) => void;
  }>();

  private constructor(
    readonly socket: WebSocket,
    readonly codec: Codec,
  ) {
    this.closed = new Promise((resolve) =>
      socket.on('close', (code, reason) => resolve({ code, reason: reason.toString() })),
    );
    socket.on('message', (data, isBinary) => {
      const frame = codec.decode(isBinary ? (data as Buffer) : data.toString(), isBinary) as ServerFrame;
      this.frames.push(frame);
      for (const waiter of [...this.waiters]) {
        if (waiter.match(frame)) {
          this.waiters.delete(waiter);
          waiter.resolve(frame);
        }
      }
    });
  }

  /** Opens a socket and waits for `hello`. */
  static async connect(
    baseUrl: string,
    token: string | undefined,
    options: { device?: string; codec?: 'msgpack' | 'json'; headers?: Record<string, string> } = {},
  ): Promise<RawClient> {
    const url = new URL('/v1/ws', baseUrl.replace(/^http/, 'ws'));
    if (token) url.searchParams.set('access_token', token);
    if (options.device) url.searchParams.set('device', options.device);
    const codec = options.codec === 'json' ? jsonCodec : msgpackCodec;
    const socket = new WebSocket(url, codec === jsonCodec ? SUBPROTOCOL_JSON : SUBPROTOCOL_MSGPACK, {
      headers: options.headers,
    });
    const client = new RawClient(socket, codec);
    const hello = client.waitFor((f) => f.t === 'hello');
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
      socket.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    });
    client.hello = (await hello) as HelloFrame;
    return client;
  }

  /** Sends a request frame and resolves with the frame answering its rid. */
  request(frame: Outgoing): Promise<ServerFrame> {
    const rid = this.nextRid++;
    const answer = this.waitFor((f) => 'rid' in f && f.rid === rid);
    this.socket.send(this.codec.encode({ ...frame, rid }));
    return answer;
  }

  sendRaw(data: Uint8Array | string): void {
    this.socket.send(data);
  }

  /** Resolves with the first matching frame received so far, or else the next one to arrive. */
  seen(match: (f: ServerFrame) => boolean, timeoutMs = 10_000): Promise<ServerFrame> {
    const past = this.frames.find(match);
    return past ? Promise.resolve(past) : this.waitFor(match, timeoutMs);
  }

  /** Resolves with the next frame (from now on) that matches. */
  waitFor(match: (f: ServerFrame) => boolean, timeoutMs = 10_000): Promise<ServerFrame> {
    return new Promise((resolve, reject) => {
      const waiter = { match, resolve };
      this.waiters.add(waiter);
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        reject(new Error('timed out waiting for a frame'));
      }, timeoutMs);
      timer.unref?.();
    });
  }

  /** Live and acked entries received so far, in arrival order. */
  entries(): MessageEntry[] {
    const out: MessageEntry[] = [];
    for (const f of this.frames)
      if ((f.t === 'msg' || f.t === 'ack') && isMessageEntry(f.entry)) out.push(f.entry);
    return out;
  }

  /** Resolves once `count` live or acked entries have arrived. */
  async waitForEntries(count: number, timeoutMs = 10_000): Promise<MessageEntry[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.entries().length < count) {
      if (Date.now() > deadline) throw new Error(`expected ${count} entries, got ${this.entries().length}`);
      await new Promise((r) => setTimeout(r, 10));
    }
    return this.entries();
  }

  /** Pings every `intervalMs` until the socket closes, as a real client's heartbeat does. */
  heartbeat(intervalMs: number): void {
    const timer = setInterval(() => {
      if (this.socket.readyState === WebSocket.OPEN) void this.request({ t: 'ping' }).catch(() => {});
    }, intervalMs);
    timer.unref?.();
    void this.closed.then(() => clearInterval(timer));
  }

  close(): void {
    this.socket.close();
  }
}
