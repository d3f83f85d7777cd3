/** The connection's statuses, the reason codes of their changes, and the token provider contract. */

/** The connection's status. Exactly one at a time; changed in one place only. */
export type ConnectionStatus = 'idle' | 'connecting' | 'open' | 'reconnecting' | 'closed';

/** Why the status changed. Stable strings: safe to switch on. */
export const StateReason = {
  /** `connect()` was called. */
  CONNECT: 'connect',
  /** The server's `hello` arrived: the session is usable. */
  HELLO: 'hello',
  /** An open socket closed (see `code`). */
  SOCKET_CLOSED: 'socket-closed',
  /** The socket could not be opened or closed before `hello` (network down, HTTP 401/503 at upgrade). */
  CONNECT_FAILED: 'connect-failed',
  /** No `hello` within `handshakeTimeoutMs`. */
  HANDSHAKE_TIMEOUT: 'handshake-timeout',
  /** No `pong` within `pongTimeoutMs`: the connection is presumed dead. */
  HEARTBEAT_TIMEOUT: 'heartbeat-timeout',
  /**
   * The runtime reported a network change (`offline`, or `online` while open) and a ping sent at once got no
   * `pong` within `probeTimeoutMs`: the connection is presumed dead.
   */
  PROBE_TIMEOUT: 'probe-timeout',
  /** The server closed with 4001: a fresh token is fetched and the client reconnects at once. */
  TOKEN_EXPIRED: 'token-expired',
  /** The server closed with 1001 (restart, drain): reconnect after a jittered delay, rediscovering the node. */
  GOING_AWAY: 'going-away',
  /** The token provider failed with a retryable error. */
  TOKEN_FAILED: 'token-failed',
  /** The server closed with 4003: credentials were revoked; the client stops. */
  REVOKED: 'revoked',
  /** The token provider failed with an authentication error (e.g. the refresh token is invalid); the client stops. */
  UNAUTHORIZED: 'unauthorized',
  /**
   * No node can be tried now: discovery answered that none is healthy (503), or every candidate failed in
   * this round. The client waits (full jitter, never less than a delay the server named) and asks again.
   */
  NO_HEALTHY_NODE: 'no-healthy-node',
  /** The backoff delay elapsed. */
  RETRY: 'retry',
  /** The runtime reported the network is back (`online` event): retry without waiting. */
  ONLINE: 'online',
  /** `close()` was called. */
  CLIENT_CLOSED: 'client-closed',
} as const;

/** A reason code of a status change. */
export type StateReason = (typeof StateReason)[keyof typeof StateReason];

/** Payload of the `state` event. */
export interface StateChange {
  status: ConnectionStatus;
  previous: ConnectionStatus;
  reason: StateReason;
  /** WebSocket close code, when a socket closed. */
  closeCode?: number;
  /** Delay before the next attempt, for `reconnecting`. */
  delayMs?: number;
  /** Consecutive failed attempts so far, for `connecting` and `reconnecting`. */
  failures?: number;
  /** The error behind the change, if any. */
  error?: Error;
  /** Id of the node concerned (with discovery): the one opened on (`open`), or the one that failed. */
  node?: string;
}

/** What a token provider is told about why a token is needed. */
export interface TokenRequest {
  /** True when the previous token was refused or expired: return a fresh one, not a cached one. */
  refresh: boolean;
}

/** Supplies the access token; called before every (re)connect. */
export type TokenProvider = (request: TokenRequest) => string | Promise<string>;

/** Reads a server-suggested delay from a close reason such as `retryAfterMs=1500` or `{"retryAfterMs":1500}`. */
export function parseRetryAfter(reason: string): number | undefined {
  const match = /retry[-_ ]?after(?:[-_ ]?ms)?"?\s*[:=]\s*(\d{1,7})/i.exec(reason);
  return match ? Number(match[1]) : undefined;
}
