import { ChatClient, type ClientStore, MemoryStore, type Message, type OutboxItem } from '@natter/client';
import type { Prng } from './prng.js';
import { type ChangeStep, SIM_EMOJIS } from './scenario.js';
import type { SimDeviceTag, SimNetwork } from './sim-network.js';

/** An entry event (`message`, `messageEdited`, `messageDeleted`, `reactionChanged`) as a device emitted it. */
export interface Emitted {
  pos: number;
  kind: 'message' | 'edited' | 'deleted' | 'reaction';
  /** The message's id (absent for a reaction, whose entry carries no message). */
  messageId?: string;
  channelId: string;
  seq: number;
  /** A user's text message (not a system one): something to react to. */
  isText: boolean;
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
  /** Texts of the edits the app asked for (the stored text is the sent one or one of these). */
  edits: string[];
  /** The app deleted it (a delete of a send still pending cancels it: then it is never stored). */
  deleteRequested: boolean;
  /** The edit calls, with their outcomes. */
  editsMade: Made[];
}

/** A change the app made. */
export interface Made {
  kind: 'edit' | 'delete' | 'react' | 'unreact';
  instance: number;
  /** Final answer: `sent`, or the code of a typed failure. */
  outcome?: string;
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
  readonly made: Made[] = [];
  /** Codes of changes that failed for good (the app discards them, as a user dismisses the error). */
  readonly changeFailures: string[] = [];
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
    const record = (event: Omit<Emitted, 'instance'>) => {
      if (!tag.alive) {
        this.runtimeViolations.push(
          `${this.key}: instance ${instance} emitted pos ${event.pos} after it died`,
        );
        return;
      }
      this.emitted.push({ ...event, instance });
      const cursor = client.cursor().pos;
      if (cursor < this.lastCursor) {
        this.runtimeViolations.push(`${this.key}: cursor went back from ${this.lastCursor} to ${cursor}`);
      }
      this.lastCursor = cursor;
    };
    const ofMessage = (kind: Emitted['kind'], pos: number, message: Message) =>
      record({
        pos,
        kind,
        messageId: message.id,
        channelId: message.channelId,
        seq: message.seq,
        isText: message.kind === 'text',
      });
    client.on('message', ({ pos, message }) => ofMessage('message', pos, message));
    client.on('messageEdited', ({ pos, message }) => ofMessage('edited', pos, message));
    client.on('messageDeleted', ({ pos, message }) => ofMessage('deleted', pos, message));
    client.on('reactionChanged', ({ pos, channelId, seq }) =>
      record({ pos, kind: 'reaction', channelId, seq, isText: true }),
    );
    client.on('mutation', ({ change, status, error }) => {
      if (status !== 'failed') return;
      this.changeFailures.push(String(error?.code));
      void client.discard(change.clientId);
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

  /**
   * Makes a change from the running instance: an edit or delete of one of the device's own sends (by seq
   * once acknowledged, else by its `clientMsgId`), or a reaction on a text message it has seen. False when
   * the device is down or has nothing to change.
   */
  change(step: ChangeStep): boolean {
    const client = this.client;
    if (!client) return false;
    let promise: Promise<unknown>;
    let editOf: Sent | undefined;
    if (step.kind === 'edit' || step.kind === 'delete') {
      const mine = this.sent.filter((s) => !s.deleteRequested);
      const target = mine[step.pick % Math.max(1, mine.length)];
      if (!target) return false;
      const ref = target.acked?.seq ?? target.clientMsgId;
      if (step.kind === 'edit') {
        const text = `${target.text} (edit ${target.edits.length + 1})`;
        target.edits.push(text);
        editOf = target;
        promise = client.edit(target.channelId, ref, text);
      } else {
        target.deleteRequested = true;
        promise = client.delete(target.channelId, ref);
      }
    } else {
      const seen = this.emitted.filter((e) => e.kind === 'message' && e.isText);
      const target = seen[step.pick % Math.max(1, seen.length)];
      if (!target) return false;
      promise = client.react(target.channelId, target.seq, SIM_EMOJIS[step.emoji]!, step.kind === 'react');
    }
    const made: Made = { kind: step.kind, instance: this.instances };
    this.made.push(made);
    if (editOf) editOf.editsMade.push(made);
    promise.then(
      () => {
        made.outcome = 'sent';
      },
      (err: { code?: string }) => {
        made.outcome = err.code ?? 'error';
      },
    );
    return true;
  }

  /** Discards changes that failed for good (a failure an earlier instance saw is reported again here). */
  dismissFailedChanges(): number {
    const client = this.client;
    if (!client) return 0;
    const failed = client.pendingChanges().filter((c) => c.status === 'failed');
    for (const change of failed) {
      this.changeFailures.push(change.error?.code ?? 'unknown');
      void client.discard(change.clientId);
    }
    return failed.length;
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
      edits: [],
      deleteRequested: false,
      editsMade: [],
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
