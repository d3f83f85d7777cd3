import { ChatClient, type ClientStore, MemoryStore, type OutboxItem } from '@natter/client';
import type { Prng } from './prng.js';
import type { SimDeviceTag, SimNetwork } from './sim-network.js';

/** A message event as a device emitted it. */
export interface Emitted {
  pos: number;
  messageId: string;
  channelId: string;
  seq: number;
  /** Which app instance of the device emitted it (1 = first run). */
  instance: number;
}

/** A `send()` the app made. */
export interface Sent {
  clientMsgId: string;
  channelId: string;
  text: string;
  instance: number;
  /** The stored message, once `acked` resolved. */
  acked?: { id: string; seq: number };
}

/** Timings of the SDK in the simulation (shorter than the defaults, so a run covers many reconnects). */
export const SIM_CLIENT_TIMINGS = {
  pongTimeoutMs: 3_000,
  handshakeTimeoutMs: 5_000,
  requestTimeoutMs: 5_000,
  outboxLeaseMs: 10_000,
  backoff: { baseMs: 200, maxMs: 5_000 },
} as const;

/**
 * A store view for one app instance. Every call first waits a seeded delay of simulated time (IndexedDB and
 * LevelDB answer asynchronously, and the SDK must cope with operations overlapping). `freeze()` is the app
 * being killed: from then on every call hangs forever, so nothing that instance does afterwards reaches the
 * device's disk (a MemoryStore that outlives the instance, as IndexedDB outlives a tab).
 */
function slowFreezable(
  disk: ClientStore,
  delayMs: () => number,
  onPersisted: (clientMsgId: string) => void,
): { store: ClientStore; freeze(): void } {
  let frozen = false;
  const store = new Proxy(disk, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (typeof value !== 'function') return value;
      return async (...args: unknown[]) => {
        const delay = delayMs();
        if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
        if (frozen) return new Promise(() => {});
        const result = await (value as (...a: unknown[]) => unknown).apply(target, args);
        if (prop === 'putOutbox') onPersisted((args[0] as OutboxItem).clientMsgId);
        return result;
      };
    },
  });
  return {
    store,
    freeze: () => {
      frozen = true;
    },
  };
}

/**
 * One device of a user: a persistent local store and the app instance currently running on it. The device
 * can be killed abruptly and started again on the same store; what it emitted and sent is recorded across
 * instances.
 */
export class SimDevice {
  readonly disk = new MemoryStore();
  readonly emitted: Emitted[] = [];
  readonly sent: Sent[] = [];
  /** Broken expectations seen while running (cursor going backwards, events after death). */
  readonly runtimeViolations: string[] = [];
  readonly errors: string[] = [];
  /** Messages whose outbox write reached the device's store. */
  readonly persisted = new Set<string>();
  /** App instances that were killed (not closed). */
  readonly killed = new Set<number>();
  client: ChatClient | undefined;
  instances = 0;
  resyncs = 0;
  /** Acks that said `duplicate: true`: a resend of a message the server had already stored. */
  duplicateAcks = 0;
  /** Outbox resends after retryable failures, summed over instances. */
  retries = 0;
  private tag: SimDeviceTag | undefined;
  private freeze: (() => void) | undefined;
  private lastCursor = 0;

  constructor(
    readonly key: string,
    readonly userId: string,
    readonly deviceId: string,
    private readonly network: SimNetwork,
    private readonly rng: Prng,
    /**
     * The first device of a user sends delivery receipts (a write and a broadcast each); the second leaves
     * them off and syncs in pages of 3, so catch-ups span several pages with live entries buffered between.
     */
    private readonly flavour: 'first' | 'second',
    /** Longest simulated time a local store call takes, ms. */
    private readonly storeDelayMs: number,
  ) {}

  get alive(): boolean {
    return this.client !== undefined;
  }

  /** Starts an app instance on the device's store and connects it. */
  start(): void {
    if (this.client) return;
    const instance = ++this.instances;
    const tag: SimDeviceTag = { key: this.key, alive: true };
    const { store, freeze } = slowFreezable(
      this.disk,
      () => this.rng.int(0, this.storeDelayMs),
      (id) => this.persisted.add(id),
    );
    const rng = this.rng;
    const client = new ChatClient({
      url: 'http://natter.sim',
      WebSocket: this.network.webSocketFor(tag),
      fetch: () => Promise.reject(new Error('the simulation has no HTTP')),
      store,
      deviceId: this.deviceId,
      getToken: () => `sim:${this.userId}`,
      deliveryReceipts: this.flavour === 'first',
      ...(this.flavour === 'second' ? { syncPageSize: 3 } : {}),
      ...SIM_CLIENT_TIMINGS,
      backoff: { ...SIM_CLIENT_TIMINGS.backoff, random: () => rng.next() },
    });
    client.on('message', ({ pos, message }) => {
      if (!tag.alive) {
        this.runtimeViolations.push(`${this.key}: instance ${instance} emitted pos ${pos} after it died`);
        return;
      }
      this.emitted.push({
        pos,
        messageId: message.id,
        channelId: message.channelId,
        seq: message.seq,
        instance,
      });
      const cursor = client.cursor().pos;
      if (cursor < this.lastCursor) {
        this.runtimeViolations.push(`${this.key}: cursor went back from ${this.lastCursor} to ${cursor}`);
      }
      this.lastCursor = cursor;
    });
    client.on('ack', ({ duplicate }) => {
      if (duplicate) this.duplicateAcks++;
    });
    client.on('resync', () => {
      this.resyncs++;
    });
    client.on('error', (err) => {
      if (this.errors.length < 20) this.errors.push(`${this.key}#${instance}: ${err.message}`);
    });
    this.client = client;
    this.tag = tag;
    this.freeze = freeze;
    void client.connect();
  }

  /** Kills the app instance abruptly: no close handshake, no lease release, its store view frozen. */
  kill(): void {
    if (!this.client || !this.tag) return;
    this.retries += this.client.stats().retries;
    this.killed.add(this.instances);
    this.tag.alive = false;
    this.freeze?.();
    this.network.resetDevice(this.key);
    this.client = undefined;
    this.tag = undefined;
  }

  /** Closes the app instance gracefully (`client.close()`): pending messages stay in the store. */
  async stop(): Promise<void> {
    const client = this.client;
    const tag = this.tag;
    if (!client || !tag) return;
    this.client = undefined;
    this.tag = undefined;
    await client.close();
    this.retries += client.stats().retries;
    tag.alive = false;
  }

  /** Sends from the running instance; false when the device is down. */
  send(channelId: string, text: string): boolean {
    const client = this.client;
    if (!client) return false;
    const handle = client.send(channelId, text);
    const sent: Sent = {
      clientMsgId: handle.message.clientMsgId,
      channelId,
      text,
      instance: this.instances,
    };
    this.sent.push(sent);
    handle.acked.then(
      (message) => {
        sent.acked = { id: message.id, seq: message.seq };
      },
      () => {},
    );
    return true;
  }
}
