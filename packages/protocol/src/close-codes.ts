/**
 * WebSocket close codes natter uses, with what each means and what a client does: one list, from which
 * docs/protocol.md's table is generated. 1xxx are RFC 6455 codes, 4xxx are natter's own. A client
 * reconnects after every code except those in {@link TERMINAL_CLOSE_CODES}.
 */
export const CLOSE_CODES = {
  NORMAL: { code: 1000, meaning: 'normal closure (client or server asked for it)', action: '—' },
  GOING_AWAY: {
    code: 1001,
    meaning: 'the server is shutting down or draining; the reason may carry a `retry-after` delay',
    action: 'reconnect with jittered backoff (through discovery)',
  },
  PROTOCOL_ERROR: {
    code: 1002,
    meaning: 'a frame could not be decoded with the negotiated codec (not MessagePack / not JSON)',
    action: 'fix the client; reconnect',
  },
  INVALID_PAYLOAD: {
    code: 1007,
    meaning: 'a text frame on the MessagePack codec, a binary frame on the JSON codec, or invalid UTF-8',
    action: 'fix the client',
  },
  POLICY_VIOLATION: {
    code: 1008,
    meaning:
      'policy: too many invalid frames, a flood past a rate limit, or a slow consumer (more than `maxBufferedBytes` queued)',
    action: 'reconnect with backoff; sync repairs what was missed',
  },
  MESSAGE_TOO_BIG: {
    code: 1009,
    meaning: 'a frame larger than `maxFrameBytes`',
    action: 'fix the client',
  },
  INTERNAL_ERROR: { code: 1011, meaning: 'an unexpected server fault', action: 'reconnect with backoff' },
  TRY_AGAIN_LATER: {
    code: 1013,
    meaning:
      'the server is overloaded or its storage is unavailable; a node past `maxConnections` closes a new socket at once with reason `overloaded; retryAfterMs=N`',
    action: 'another node now, this one not before N ms',
  },
  TOKEN_EXPIRED: {
    code: 4001,
    meaning: 'the access token expired during the session',
    action: 'refresh the token, reconnect',
  },
  SESSION_REVOKED: {
    code: 4003,
    meaning: 'the session was revoked (logout, password change, account removal)',
    action: 'do not reconnect with the same credentials',
  },
  HEARTBEAT_TIMEOUT: {
    code: 4008,
    meaning: 'no frame arrived within `heartbeatTimeoutMs`',
    action: 'reconnect',
  },
  TOO_MANY_CONNECTIONS: {
    code: 4029,
    meaning:
      'the user already holds `maxConnectionsPerUser` sockets on this node; reason `too many connections; retryAfterMs=N`',
    action: 'close sockets the app no longer needs; reconnect not before N ms',
  },
} as const satisfies Record<string, { code: number; meaning: string; action: string }>;

type CloseCodes = typeof CLOSE_CODES;

/** Every close code by name: `CloseCode.GOING_AWAY === 1001`. */
export const CloseCode = Object.freeze(
  Object.fromEntries(Object.entries(CLOSE_CODES).map(([name, spec]) => [name, spec.code])),
) as { readonly [K in keyof CloseCodes]: CloseCodes[K]['code'] };

/** A natter close code. */
export type CloseCode = CloseCodes[keyof CloseCodes]['code'];

/** Close codes after which reconnecting with the same credentials is pointless. */
export const TERMINAL_CLOSE_CODES: ReadonlySet<number> = new Set<number>([CloseCode.SESSION_REVOKED]);
