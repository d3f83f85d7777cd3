import {
  type ClientFrame,
  isMessageEntry,
  type MessageEntry,
  msgpackCodec,
  type ServerFrame,
  SUBPROTOCOL_MSGPACK,
} from '@natter/protocol';
import WebSocket from 'ws';

type Outgoing = ClientFrame extends infer F ? (F extends { rid: number } ? Omit<F, 'rid'> : never) : never;

/** Where a device connects: a WebSocket URL, e.g. from `GET /v1/discovery`. */
export type Locate = () => Promise<string>;

/** Asks an API node's discovery endpoint where to connect. */
export const viaDiscovery =
  (apiUrl: string): Locate =>
  async () => {
    const res = await fetch(`${apiUrl}/v1/discovery`, { signal: AbortSignal.timeout(2_000) });
    if (!res.ok) throw new Error(`discovery answered ${res.status}`);
    return ((await res.json()) as { wsUrl: string }).wsUrl;
  };

/** Always the same node. */
export const direct =
  (httpUrl: string): Locate =>
  async () =>
    `${httpUrl.replace(/^http/, 'ws')}/v1/ws`;

interface PendingSend {
  clientMsgId: string;
  channelId: string;
  text: string;
  resolve: (entry: MessageEntry) => void;
}

/**
 * A test device that behaves like a careful SDK, on the raw protocol: it applies entries strictly in `pos`
 * order, detects gaps in live delivery and fills them with `sync`, catches up after every (re)connect,
 * reconnects with jittered backoff through `locate` (discovery), and keeps an outbox whose unacked sends
 * are re-sent with the same `clientMsgId` after a reconnect. Everything it applied is in `applied`.
 */
export class Device {
  cursor = 0;
  epoch: string | undefined;
  /** Entries applied, in order (pos 1, 2, 3, ...). */
  readonly applied: MessageEntry[] = [];
  /** Ephemeral frames received (presence, typing, receipts), with the time they arrived. */
  readonly events: Array<{ at: number; frame: ServerFrame }> = [];
  /** WebSocket URLs this device was connected to, in order. */
  readonly nodes: string[] = [];
  /** Close codes of the connections that ended, and when. */
  readonly closes: Array<{ code: number; at: number }> = [];
  /** Protocol violations seen (asserted empty by the tests). */
  readonly failures: string[] = [];
  /** Errors answered to sends (each is retried later), with the channel and when: what a dead shard costs. */
  readonly sendErrors: Array<{
    channelId: string;
    code: string;
    message: string;
    retryAfterMs: number | undefined;
    at: number;
  }> = [];
  liveDuplicates = 0;
  gapsDetected = 0;
  reconnects = 0;
  private ws: WebSocket | undefined;
  private open = false;
  private stopped = false;
  private nextRid = 1;
  private sendCounter = 0;
  private readonly outbox = new Map<string, PendingSend>();
  private readonly requests = new Map<
    number,
    { resolve: (f: ServerFrame) => void; reject: (e: Error) => void }
  >();
  private readonly sendRids = new Map<number, string>();
  private syncing: Promise<void> | undefined;
  private buffered: MessageEntry[] = [];
  private opened: { promise: Promise<void>; resolve: () => void } = deferred();
  private pinger: ReturnType<typeof setInterval> | undefined;

  constructor(
    readonly label: string,
    private readonly token: string,
    readonly deviceId: string,
    private readonly locate: Locate,
    private readonly options: { pingEveryMs?: number } = {},
  ) {}

  /** Connects (retrying) and resolves once connected and caught up. */
  async start(timeoutMs = 15_000): Promise<void> {
    void this.connectLoop();
    if (this.options.pingEveryMs) {
      this.pinger = setInterval(() => {
        if (this.open) void this.request({ t: 'ping' }).catch(() => undefined);
      }, this.options.pingEveryMs);
    }
    await this.connected(timeoutMs);
  }

  /** Resolves when the device is connected and caught up. */
  connected(timeoutMs = 15_000): Promise<void> {
    return withTimeout(this.opened.promise, timeoutMs, `${this.label} to connect`);
  }

  get isOpen(): boolean {
    return this.open;
  }

  /** Queues a message; resolves with the acked entry (after any number of reconnects). */
  send(channelId: string, text: string): Promise<MessageEntry> {
    const clientMsgId = `${this.deviceId}-${++this.sendCounter}`;
    return new Promise((resolve) => {
      this.outbox.set(clientMsgId, { clientMsgId, channelId, text, resolve });
      if (this.open) this.transmit(this.outbox.get(clientMsgId)!);
    });
  }

  get unacked(): number {
    return this.outbox.size;
  }

  /** Sends any request frame on the current connection. */
  request(frame: Outgoing, timeoutMs = 10_000): Promise<ServerFrame> {
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN)
      return Promise.reject(new Error(`${this.label} not connected`));
    const rid = this.nextRid++;
    return new Promise<ServerFrame>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.requests.delete(rid);
        reject(new Error(`${this.label}: ${frame.t} timed out`));
      }, timeoutMs);
      this.requests.set(rid, {
        resolve: (f) => {
          clearTimeout(timer);
          resolve(f);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      ws.send(msgpackCodec.encode({ ...frame, rid } as ClientFrame));
    });
  }

  /** Sends a frame that is answered only on error (typing, received), without waiting. */
  fire(frame: Outgoing): void {
    this.ws?.send(msgpackCodec.encode({ ...frame, rid: this.nextRid++ } as ClientFrame));
  }

  /** Reads the whole sync log from position 0 over the current connection: the record to compare with. */
  async fullLog(): Promise<MessageEntry[]> {
    // A device that was just moved (drain, node kill) may still be between connections: wait for the next.
    await this.connected();
    const out: MessageEntry[] = [];
    let after = 0;
    for (let page = 0; page < 1_000; page++) {
      const f = await this.request({ t: 'sync', after, ...(this.epoch ? { epoch: this.epoch } : {}) });
      if (f.t !== 'sync.page') throw new Error(`${this.label}: sync answered ${JSON.stringify(f)}`);
      out.push(...f.entries.filter(isMessageEntry));
      after = f.entries.at(-1)?.pos ?? after;
      if (!f.hasMore) break;
    }
    return out;
  }

  /** Waits until the device has applied up to `pos` (live, by gap fill or by catch-up). */
  async until(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!condition()) {
      if (Date.now() > deadline) throw new Error(`${this.label}: timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Closes the connection without reconnecting. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.pinger) clearInterval(this.pinger);
    const ws = this.ws;
    if (ws && ws.readyState !== WebSocket.CLOSED) {
      const closed = new Promise<void>((resolve) => ws.once('close', () => resolve()));
      ws.close();
      await Promise.race([closed, new Promise((r) => setTimeout(r, 2_000))]);
      ws.terminate();
    }
  }

  private async connectLoop(): Promise<void> {
    let attempt = 0;
    while (!this.stopped) {
      let url: string;
      try {
        url = await this.locate();
      } catch {
        await sleep(backoff(attempt++));
        continue;
      }
      const ended = await this.connectOnce(url);
      if (this.stopped) return;
      attempt = ended.wasOpen ? 0 : attempt + 1;
      this.reconnects++;
      await sleep(backoff(attempt));
    }
  }

  /** One connection's lifetime; resolves when it closes. */
  private connectOnce(wsUrl: string): Promise<{ wasOpen: boolean }> {
    return new Promise((resolve) => {
      const url = new URL(wsUrl);
      url.searchParams.set('access_token', this.token);
      url.searchParams.set('device', this.deviceId);
      const ws = new WebSocket(url, SUBPROTOCOL_MSGPACK);
      this.ws = ws;
      let wasOpen = false;
      ws.on('message', (data: Buffer) => {
        const frame = msgpackCodec.decode(data, true) as ServerFrame;
        if (frame.t === 'hello') {
          wasOpen = true;
          this.nodes.push(wsUrl);
          void this.onHello(ws, frame.epoch);
          return;
        }
        this.onFrame(frame);
      });
      ws.on('error', () => undefined);
      ws.on('close', (code) => {
        if (wasOpen) this.closes.push({ code, at: Date.now() });
        this.open = false;
        if (this.ws === ws) this.ws = undefined;
        for (const [, r] of this.requests) r.reject(new Error(`${this.label}: connection closed`));
        this.requests.clear();
        this.sendRids.clear();
        if (!this.stopped && this.openedSettled) {
          this.opened = deferred();
          this.openedSettled = false;
        }
        resolve({ wasOpen });
      });
    });
  }

  private openedSettled = false;

  private async onHello(ws: WebSocket, epoch: string): Promise<void> {
    if (this.epoch !== undefined && this.epoch !== epoch) {
      // Never expected in these tests: every node shares one store. Recorded for the assertions.
      this.failures.push(`the log epoch changed (${this.epoch} -> ${epoch})`);
    }
    this.epoch = epoch;
    try {
      await this.catchUp();
    } catch {
      return; // the connection dropped during catch-up: the next one tries again
    }
    if (this.ws !== ws) return;
    this.open = true;
    for (const pending of this.outbox.values()) this.transmit(pending);
    this.openedSettled = true;
    this.opened.resolve();
  }

  private transmit(pending: PendingSend): void {
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) return;
    const rid = this.nextRid++;
    this.sendRids.set(rid, pending.clientMsgId);
    ws.send(
      msgpackCodec.encode({
        t: 'send',
        rid,
        channelId: pending.channelId,
        clientMsgId: pending.clientMsgId,
        text: pending.text,
      }),
    );
  }

  private onFrame(frame: ServerFrame): void {
    switch (frame.t) {
      case 'msg':
        if (isMessageEntry(frame.entry)) this.onEntry(frame.entry);
        return;
      case 'ack': {
        this.sendRids.delete(frame.rid);
        const id = frame.entry.message.clientMsgId;
        const pending = id ? this.outbox.get(id) : undefined;
        if (pending) {
          this.outbox.delete(pending.clientMsgId);
          pending.resolve(frame.entry);
        }
        this.onEntry(frame.entry);
        return;
      }
      case 'error': {
        const clientMsgId = frame.rid === undefined ? undefined : this.sendRids.get(frame.rid);
        if (clientMsgId !== undefined) {
          this.sendRids.delete(frame.rid!);
          // A rejected send is retried later (rate limit, or a node that is going away).
          const pending = this.outbox.get(clientMsgId);
          if (pending) {
            this.sendErrors.push({
              channelId: pending.channelId,
              code: frame.code,
              message: frame.message,
              retryAfterMs: frame.retryAfterMs,
              at: Date.now(),
            });
          }
          if (pending)
            setTimeout(() => this.open && this.outbox.has(clientMsgId) && this.transmit(pending), 200);
          return;
        }
        if (frame.rid !== undefined) {
          const r = this.requests.get(frame.rid);
          this.requests.delete(frame.rid);
          r?.reject(new Error(`${this.label}: ${frame.code} ${frame.message}`));
        }
        return;
      }
      case 'presence':
      case 'typing':
      case 'receipt':
        this.events.push({ at: Date.now(), frame });
        return;
      default:
        if ('rid' in frame && typeof frame.rid === 'number') {
          const r = this.requests.get(frame.rid);
          this.requests.delete(frame.rid);
          r?.resolve(frame);
        }
    }
  }

  private onEntry(entry: MessageEntry): void {
    if (this.syncing) {
      this.buffered.push(entry);
      return;
    }
    if (entry.pos <= this.cursor) {
      this.liveDuplicates++;
      return;
    }
    if (entry.pos === this.cursor + 1) {
      this.apply(entry);
      return;
    }
    // A gap: something was published while we could not hear it. The log has it.
    this.gapsDetected++;
    this.buffered.push(entry);
    void this.catchUp().catch(() => undefined);
  }

  private apply(entry: MessageEntry): void {
    this.applied.push(entry);
    this.cursor = entry.pos;
  }

  /** Syncs from the cursor to the head, then applies what arrived live meanwhile. */
  private catchUp(): Promise<void> {
    this.syncing ??= (async () => {
      try {
        for (let round = 0; round < 1_000; round++) {
          const page = await this.request({
            t: 'sync',
            after: this.cursor,
            ...(this.epoch ? { epoch: this.epoch } : {}),
          });
          if (page.t !== 'sync.page') throw new Error(`${this.label}: sync answered ${page.t}`);
          for (const e of page.entries) if (e.pos === this.cursor + 1 && isMessageEntry(e)) this.apply(e);
          if (page.hasMore) continue;
          const waiting = this.buffered.sort((a, b) => a.pos - b.pos);
          this.buffered = [];
          for (const e of waiting) {
            if (e.pos <= this.cursor) continue;
            if (e.pos === this.cursor + 1) this.apply(e);
            else this.buffered.push(e);
          }
          if (this.buffered.length === 0) return;
        }
      } finally {
        this.syncing = undefined;
      }
    })();
    return this.syncing;
  }
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve: () => void = () => {};
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const backoff = (attempt: number) => Math.round(Math.random() * Math.min(1_000, 50 * 2 ** attempt)) + 20;

async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
