import type { Broker, NodeRegistry, PresenceStore } from '@natter/server-core';

/** A {@link PresenceStore} the suite can release; adapters that own connections expose `close`. */
export type ClosablePresenceStore = PresenceStore & { close?(): Promise<void> };

/** Options of `runBrokerConformance`. */
export interface BrokerConformanceOptions {
  /** Adapter name, used in the `describe` titles. */
  name: string;
  /**
   * Returns a new broker connected to the server under test, as one chat node would create it. Checks call
   * it once or twice (two brokers stand for two nodes); the suite closes every broker it got.
   */
  factory: () => Promise<Broker>;
  /**
   * Returns a broker pointed at a server that is not there (e.g. `127.0.0.1:1`). Without it the
   * unreachable-server check is skipped.
   */
  unreachable?: () => Broker;
  /**
   * Time an unreachable broker may take to reject a publish or report through `onError`, ms.
   * @default 5000
   */
  errorWithinMs?: number;
  /**
   * How long the suite waits before concluding that nothing more will arrive, ms.
   * @default 250
   */
  quietMs?: number;
  /** Time a published message may take to arrive, ms. @default 5000 */
  deliveryWithinMs?: number;
}

/** Options of `runPresenceStoreConformance`. */
export interface PresenceConformanceOptions {
  name: string;
  /** Returns a harness over an empty store. */
  factory: () => Promise<PresenceHarness>;
}

/** One presence store for one test. */
export interface PresenceHarness {
  store: ClosablePresenceStore;
  /**
   * Opens a second store over the same data, as a second chat node would. Omit it for a node-local store;
   * the checks of atomicity across nodes are then skipped.
   */
  another?: () => Promise<ClosablePresenceStore>;
  /** Releases what the harness created (keys, connections); called once per test, also after failures. */
  cleanup(): Promise<void>;
}

/** Options of `runRegistryConformance`. */
export interface RegistryConformanceOptions {
  name: string;
  /** Returns a harness over an empty registry. */
  factory: () => Promise<RegistryHarness>;
}

/** One registry for one test. */
export interface RegistryHarness {
  registry: NodeRegistry;
  /** Opens a second registry over the same data (an API node reading what chat nodes wrote). */
  another(): Promise<NodeRegistry>;
  /**
   * Whether an entry disappears `ttlMs` after its last heartbeat while its registry is still open. True for
   * TTL stores (Redis); false where liveness follows a session instead (ZooKeeper ephemeral znodes vanish
   * when the session ends). @default true
   */
  expiresWithoutHeartbeat?: boolean;
  /** Releases what the harness created; called once per test, also after failures. */
  cleanup(): Promise<void>;
}

/** What a broker check receives. */
export interface BrokerCheckContext {
  /** A new broker (a node); closed by the suite after the check. */
  open(): Promise<Broker>;
  /** A broker pointed at an unreachable server, when the options give one. */
  unreachable: (() => Broker) | undefined;
  /** A topic name no other test uses. */
  topic(label?: string): string;
  readonly errorWithinMs: number;
  readonly quietMs: number;
  readonly deliveryWithinMs: number;
}

/** What a presence check receives. */
export interface PresenceCheckContext {
  readonly store: ClosablePresenceStore;
  /** A second store over the same data; undefined for node-local stores. */
  readonly another: (() => Promise<ClosablePresenceStore>) | undefined;
  /** A user id no other test uses. */
  user(label?: string): string;
}

/** What a registry check receives. */
export interface RegistryCheckContext {
  readonly registry: NodeRegistry;
  another(): Promise<NodeRegistry>;
  readonly expiresWithoutHeartbeat: boolean;
  /** A node id no other test uses. */
  nodeId(label?: string): string;
}

/** One behaviour of a contract, runnable on its own. */
export interface Check<C> {
  readonly group: string;
  /** The behaviour as a sentence, used as the test name. */
  readonly title: string;
  /** Skip unless this holds for the context (e.g. the harness can open a second store). */
  readonly requires?: (context: C) => boolean;
  run(context: C): Promise<void>;
}

export type BrokerCheck = Check<BrokerCheckContext>;
export type PresenceCheck = Check<PresenceCheckContext>;
export type RegistryCheck = Check<RegistryCheckContext>;

/** Declares a check. */
export function defineCheck<C>(
  group: string,
  title: string,
  run: (context: C) => Promise<void>,
  requires?: (context: C) => boolean,
): Check<C> {
  return { group, title, run, ...(requires ? { requires } : {}) };
}
