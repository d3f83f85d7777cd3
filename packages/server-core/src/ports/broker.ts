/**
 * Stable codes of the errors broker, presence-store and registry adapters report through `onError` and
 * reject with. Check `code`, not `instanceof` (dual ESM/CJS builds break `instanceof`).
 */
export const BrokerErrorCode = {
  /** A connection to the server failed or dropped; publishes meanwhile may be lost (sync repairs them). */
  UNREACHABLE: 'NATTER_BROKER_UNREACHABLE',
  /**
   * A connection came back and its subscriptions are active again. Messages published while it was down
   * were not delivered: devices recover them through gap detection and `sync`.
   */
  RECONNECTED: 'NATTER_BROKER_RECONNECTED',
  /** The adapter was closed; nothing more is published or delivered. */
  CLOSED: 'NATTER_BROKER_CLOSED',
  /** A subscriber's handler threw; delivery to other handlers and later messages goes on. */
  HANDLER_FAILED: 'NATTER_BROKER_HANDLER_FAILED',
  /** The server answered something the adapter cannot use (e.g. a malformed registry entry). */
  BAD_DATA: 'NATTER_BROKER_BAD_DATA',
} as const;

/** One of {@link BrokerErrorCode}. */
export type BrokerErrorCode = (typeof BrokerErrorCode)[keyof typeof BrokerErrorCode];

/** An error of a scale-out adapter, with a stable {@link BrokerErrorCode}. */
export class BrokerError extends Error {
  override readonly name = 'BrokerError';

  constructor(
    readonly code: BrokerErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** True when `error` carries the given broker error code (works across module copies). */
export function isBrokerError(error: unknown, code?: BrokerErrorCode): error is BrokerError {
  if (typeof error !== 'object' || error === null) return false;
  const found = (error as { code?: unknown }).code;
  return (
    typeof found === 'string' && found.startsWith('NATTER_BROKER_') && (code === undefined || found === code)
  );
}

/**
 * Publish/subscribe between chat nodes. The whole contract: publish bytes to a topic, subscribe a handler
 * to a topic, report errors. Delivery may be at-most-once (Redis pub/sub drops during a blip): natter's
 * sync log is the record, so a device that misses a broker message recovers it through gap detection and
 * `sync`. What a broker must not do is fail silently: errors go to `onError`.
 */
export interface Broker {
  /** Hands `payload` to the broker for every subscriber of `topic`. Rejects when the broker is unreachable. */
  publish(topic: string, payload: Uint8Array): Promise<void>;
  /** Subscribes; resolves once the subscription is active. Unsubscribe with the returned function. */
  subscribe(topic: string, handler: (payload: Uint8Array) => void): Promise<() => Promise<void>>;
  /** Registers a listener for connection errors and reconnects (for logs, metrics and events). */
  onError(listener: (error: Error) => void): void;
  close(): Promise<void>;
}

/** A chat node as service discovery sees it. */
export interface NodeInfo {
  /** Unique per process. */
  id: string;
  /** Where clients open their WebSocket. */
  wsUrl: string;
  region: string;
  /** Connections the node is sized for. */
  capacity: number;
  /** Connections it holds now. */
  load: number;
}

/**
 * Service discovery: chat nodes register and heartbeat themselves; the API asks for the live ones.
 * An entry not renewed within `ttlMs` disappears (a dead node drops out within seconds).
 */
export interface NodeRegistry {
  /** Registers or renews the node's entry for `ttlMs`. */
  heartbeat(node: NodeInfo, ttlMs: number): Promise<void>;
  /** Removes the node's entry at once (graceful drain). */
  deregister(nodeId: string): Promise<void>;
  /** Live nodes. */
  list(): Promise<NodeInfo[]>;
  close(): Promise<void>;
}
