import { ErrorCode } from '@natter/protocol';

/**
 * Stable codes of the errors broker, presence-store and registry adapters report through `onError` and
 * reject with: the `NATTER_BROKER_*` codes of the protocol's one error list, by short name. Check `code`,
 * not `instanceof` (dual ESM/CJS builds break `instanceof`).
 */
export const BrokerErrorCode = Object.freeze({
  UNREACHABLE: ErrorCode.BROKER_UNREACHABLE,
  RECONNECTED: ErrorCode.BROKER_RECONNECTED,
  CLOSED: ErrorCode.BROKER_CLOSED,
  HANDLER_FAILED: ErrorCode.BROKER_HANDLER_FAILED,
  BAD_DATA: ErrorCode.BROKER_BAD_DATA,
});

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

/**
 * The `onError` side of an adapter: keeps the listeners and hands each report to all of them. One shared
 * piece, so every broker, presence store and registry reports the same way.
 */
export class BrokerErrorListeners {
  private readonly listeners: Array<(error: Error) => void> = [];

  /** Registers a listener (the adapter's `onError`). */
  add(listener: (error: Error) => void): void {
    this.listeners.push(listener);
  }

  /** Builds a {@link BrokerError} and gives it to every listener; a throwing listener never stops the others. */
  report(code: BrokerErrorCode, message: string, cause?: unknown): void {
    const error = new BrokerError(code, message, cause === undefined ? undefined : { cause });
    for (const listener of this.listeners) {
      try {
        listener(error);
      } catch {
        // A failing listener must not stop the others or the connection's event loop.
      }
    }
  }
}
