/** What an authenticator learnt about a user from their token, to create or update their natter profile. */
export interface ProvisionedProfile {
  /** Wanted login name; natter makes it valid and unique (`a-z 0-9 _ . -`, 3-32 characters). */
  username?: string;
  /** Display name; natter's copy is updated when the token carries a new one. */
  displayName?: string;
}

/** Who a connection or request acts for, as established by an {@link Authenticator}. */
export interface Principal {
  userId: string;
  /** Device the token was issued to, when the token says so; else the client names its device at connect. */
  deviceId?: string;
  /** When the credential stops being valid, ms since the epoch; sockets are closed with 4001 then. */
  expiresAt?: number;
  /**
   * Just-in-time provisioning: when set, a user natter does not know yet is created from it on first
   * connect or API call, and a known user's display name follows it. When absent, a token for a user
   * natter does not know is refused (`NATTER_UNAUTHORIZED`), as natter's own tokens are.
   */
  provision?: ProvisionedProfile;
  /**
   * The session (login) the token belongs to: one id per login, kept through refreshes. Logout, password
   * change and refresh-token reuse revoke it, and every node refuses its tokens within seconds.
   */
  sessionId?: string;
  /** When the token was issued, ms since the epoch: tokens issued before a user-wide revocation are refused. */
  issuedAt?: number;
}

/**
 * Verifies a bearer token. natter's own token service implements it; an embedding app plugs in its own
 * to accept the tokens it already issues (the common case for an SDK), or uses `createJwtAuthenticator` to
 * verify its identity provider's JWTs against a JWKS URL or a public key.
 * Must throw a NatterError with code UNAUTHORIZED or TOKEN_EXPIRED for a token it does not accept.
 */
export interface Authenticator {
  authenticate(token: string): Promise<Principal>;
}
