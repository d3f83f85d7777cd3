import type { Broker, NodeInfo, NodeRegistry } from '@natter/server-core';

type Handler = (payload: Uint8Array) => void;

/** What the in-memory brokers of one "server" share. */
export class MemoryBus {
  readonly topics = new Map<string, Set<Handler>>();
}

/** Ways to break the reference broker, each violating one rule of the contract. */
export interface Breakage {
  /** subscribe resolves before the subscription is active (the first message is missed). */
  lateSubscribe?: boolean;
  /** every subscriber gets every topic. */
  noIsolation?: boolean;
  /** unsubscribe resolves but delivery goes on. */
  ignoreUnsubscribe?: boolean;
  /** sends the whole underlying buffer of a view, and drops empty payloads. */
  sloppyBytes?: boolean;
  /** delivers in reverse order within a tick. */
  reorder?: boolean;
  /** publish after close resolves silently. */
  silentAfterClose?: boolean;
  /** an unreachable server is never reported: publishes hang. */
  swallowErrors?: boolean;
}

/** The reference broker: in-process, asynchronous delivery, errors reported. */
export class MemoryBroker implements Broker {
  private closed = false;
  private readonly listeners: Array<(error: Error) => void> = [];
  private readonly mine = new Set<{ topic: string; handler: Handler }>();
  private pending: Array<() => void> = [];

  constructor(
    private readonly bus: MemoryBus | undefined,
    private readonly broken: Breakage = {},
  ) {
    if (!bus && !broken.swallowErrors) {
      setTimeout(() => this.report(new Error('connect ECONNREFUSED 127.0.0.1:1')), 20);
    }
  }

  async publish(topic: string, payload: Uint8Array): Promise<void> {
    if (this.closed) {
      if (this.broken.silentAfterClose) return;
      throw new Error('broker closed');
    }
    if (!this.bus) {
      if (this.broken.swallowErrors) return new Promise(() => {});
      throw new Error('broker unreachable');
    }
    if (this.broken.sloppyBytes && payload.byteLength === 0) return;
    const copy = this.broken.sloppyBytes ? new Uint8Array(payload.buffer.slice(0)) : payload.slice();
    const targets = this.broken.noIsolation
      ? [...this.bus.topics.values()].flatMap((set) => [...set])
      : [...(this.bus.topics.get(topic) ?? [])];
    for (const handler of targets) {
      const run = () => {
        const live = this.broken.noIsolation || this.bus?.topics.get(topic)?.has(handler);
        if (!live) return;
        handler(copy);
      };
      if (this.broken.reorder) {
        this.pending.unshift(run);
        if (this.pending.length === 1) {
          setTimeout(() => {
            const batch = this.pending;
            this.pending = [];
            for (const r of batch) r();
          }, 5);
        }
      } else setImmediate(run);
    }
  }

  async subscribe(topic: string, handler: Handler): Promise<() => Promise<void>> {
    if (this.closed || !this.bus) throw new Error(this.closed ? 'broker closed' : 'broker unreachable');
    const bus = this.bus;
    const entry = { topic, handler };
    // A fresh function per subscription, so one handler subscribed twice counts twice.
    // Handler errors are the subscribing node's to report.
    const wrapped: Handler = (p) => {
      try {
        handler(p);
      } catch (err) {
        this.report(err as Error);
      }
    };
    const add = () => {
      const set = bus.topics.get(topic) ?? new Set<Handler>();
      bus.topics.set(topic, set);
      set.add(wrapped);
    };
    if (this.broken.lateSubscribe) setTimeout(add, 50);
    else add();
    this.mine.add(entry);
    const remove = () => {
      bus.topics.get(topic)?.delete(wrapped);
      this.mine.delete(entry);
    };
    (entry as { remove?: () => void }).remove = remove;
    return async () => {
      if (!this.broken.ignoreUnsubscribe) remove();
    };
  }

  onError(listener: (error: Error) => void): void {
    this.listeners.push(listener);
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const entry of [...this.mine]) (entry as { remove?: () => void }).remove?.();
  }

  private report(error: Error): void {
    for (const listener of this.listeners) listener(error);
  }
}

/** The reference registry: entries with an expiry time, in one shared map. */
export class MemoryRegistry implements NodeRegistry {
  private closed = false;
  private readonly written = new Set<string>();

  constructor(private readonly entries: Map<string, { info: NodeInfo; until: number }>) {}

  async heartbeat(node: NodeInfo, ttlMs: number): Promise<void> {
    this.open();
    this.entries.set(node.id, { info: { ...node }, until: Date.now() + ttlMs });
    this.written.add(node.id);
  }

  async deregister(nodeId: string): Promise<void> {
    this.open();
    this.entries.delete(nodeId);
  }

  async list(): Promise<NodeInfo[]> {
    this.open();
    const now = Date.now();
    return [...this.entries.values()].filter((e) => e.until > now).map((e) => ({ ...e.info }));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // Like a session-bound registry: a closed node's entries go with it.
    for (const id of this.written) this.entries.delete(id);
  }

  private open(): void {
    if (this.closed) throw new Error('registry closed');
  }
}
