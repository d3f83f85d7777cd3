/** Who a connection or request acts for, as established by an {@link Authenticator}. */
export interface Principal {
  userId: string;
  /** Device the token was issued to, when the token says so; else the client names its device at connect. */
  deviceId?: string;
  /** When the credential stops being valid, ms since the epoch; sockets are closed with 4001 then. */
  expiresAt?: number;
}

/**
 * Verifies a bearer token. natter's own token service implements it; an embedding app plugs in its own
 * to accept the tokens it already issues (the common case for an SDK).
 * Must throw a NatterError with code UNAUTHORIZED or TOKEN_EXPIRED for a token it does not accept.
 */
export interface Authenticator {
  authenticate(token: string): Promise<Principal>;
}
