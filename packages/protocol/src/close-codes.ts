/**
 * WebSocket close codes natter uses. 1xxx are RFC 6455 codes, 4xxx are natter's own.
 * A client reconnects after every code except those listed in {@link TERMINAL_CLOSE_CODES}.
 */
export const CloseCode = {
  /** Normal closure (client or server asked for it). */
  NORMAL: 1000,
  /** The server is shutting down or draining; reconnect (possibly elsewhere) after the jittered delay in the reason. */
  GOING_AWAY: 1001,
  /** The frame could not be decoded with the negotiated codec. */
  PROTOCOL_ERROR: 1002,
  /** A text frame on the MessagePack codec, a binary frame on the JSON codec, or invalid UTF-8. */
  INVALID_PAYLOAD: 1007,
  /** Policy violation: send flood past the rate limit, too many bad frames, or a slow consumer. */
  POLICY_VIOLATION: 1008,
  /** A frame larger than `maxPayload` (or a decompression result larger than it). */
  MESSAGE_TOO_BIG: 1009,
  /** Unexpected server fault. */
  INTERNAL_ERROR: 1011,
  /** Overloaded; retry later. */
  TRY_AGAIN_LATER: 1013,
  /** The access token expired during the session; refresh it and reconnect. */
  TOKEN_EXPIRED: 4001,
  /** The session was revoked (logout, password change, account removal). Do not reconnect with the same token. */
  SESSION_REVOKED: 4003,
  /** No heartbeat arrived within the heartbeat timeout. */
  HEARTBEAT_TIMEOUT: 4008,
} as const;

/** A natter close code. */
export type CloseCode = (typeof CloseCode)[keyof typeof CloseCode];

/** Close codes after which reconnecting with the same credentials is pointless. */
export const TERMINAL_CLOSE_CODES: ReadonlySet<number> = new Set<number>([CloseCode.SESSION_REVOKED]);
