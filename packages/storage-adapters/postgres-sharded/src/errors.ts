import { ErrorCode, NatterError } from '@natter/server-core';

/** How long a client waits before retrying a call that met an unreachable server. */
export const SHARD_RETRY_AFTER_MS = 1_000;

/**
 * Refusal to open: the shard map stored on a server disagrees with the configuration (or a server is
 * another one's database). `servers` names each server that disagrees, as `#index host:port`.
 */
export class ShardMapError extends Error {
  override readonly name = 'ShardMapError';
  constructor(
    message: string,
    /** Each refusing server as `#index host:port`. */
    readonly servers: readonly string[],
  ) {
    super(message);
  }
}

/** SQLSTATE classes and socket errors that mean "the server is not there (now)", not "the query is wrong". */
const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENOTFOUND',
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now (starting up, recovering)
  '53300', // too_many_connections: the server is full now
]);

/** True for an error that says the server is unreachable (down, restarting, connection cut). */
export function isConnectionError(error: unknown): boolean {
  if (error instanceof NatterError) return false;
  const e = error as { code?: unknown; message?: unknown } | null;
  const code = typeof e?.code === 'string' ? e.code : '';
  if (CONNECTION_CODES.has(code) || code.startsWith('08')) return true;
  const message = typeof e?.message === 'string' ? e.message : '';
  return /Connection terminated|connection timeout|Client has encountered a connection error|not queryable/i.test(
    message,
  );
}

/** `#index host:port` of a server, for messages (never the password of the URL). */
export function serverLabel(index: number, url: string): string {
  try {
    const parsed = new URL(url);
    return `#${index} ${parsed.hostname}:${parsed.port || '5432'}`;
  } catch {
    return `#${index}`;
  }
}

/** A connection error as the typed retryable `NATTER_UNAVAILABLE`; other errors unchanged. */
export function asUnavailable(error: unknown, label: string): unknown {
  if (!isConnectionError(error)) return error;
  return new NatterError(
    ErrorCode.UNAVAILABLE,
    `storage server ${label} is unreachable; try again`,
    SHARD_RETRY_AFTER_MS,
  );
}
