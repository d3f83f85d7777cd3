/**
 * Stable codes of the errors the adapters report through `onError` and reject with. Check `code`, not
 * `instanceof` (dual ESM/CJS builds break `instanceof`).
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

/** The message of an unknown thrown value. */
export const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));
