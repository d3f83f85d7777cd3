/** Codes broker adapters put on the errors they report through `onError` and reject with. */
export const BrokerErrorCode = {
  /** The broker cannot be reached; publishes fail until it is back. */
  UNREACHABLE: 'NATTER_BROKER_UNREACHABLE',
  /** The connection came back: messages published meanwhile may have been dropped. */
  RECONNECTED: 'NATTER_BROKER_RECONNECTED',
  /** Used after `close()`. */
  CLOSED: 'NATTER_BROKER_CLOSED',
  /** A subscriber's handler threw. */
  HANDLER_FAILED: 'NATTER_BROKER_HANDLER_FAILED',
  /** A payload or topic the adapter refuses. */
  BAD_DATA: 'NATTER_BROKER_BAD_DATA',
} as const;

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
