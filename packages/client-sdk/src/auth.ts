import { ErrorCode, NatterError } from '@natter/protocol';
import type { TokenProvider, TokenRequest } from './connection.js';
import { errorCodeOf } from './errors.js';
import type { HttpClient, Session } from './http.js';

/** Options of {@link Auth}. */
export interface AuthOptions {
  http: HttpClient;
  /** The app's own token source; when given, login/refresh of the built-in accounts are not used. */
  getToken?: TokenProvider;
  /** A session saved by the app from an earlier `session` event. */
  session?: Session;
  now: () => number;
  /** Called whenever the session changes (login, refresh, logout, refresh failure). */
  onSession: (session: Session | undefined) => void;
  /** Refresh this long before the access token expires, ms. @default 30000 */
  refreshMarginMs?: number;
}

const FRESH_MS = 5_000;
const REFUSED = new Set<string>([ErrorCode.UNAUTHORIZED, ErrorCode.INVALID_CREDENTIALS]);

/**
 * Supplies access tokens: from the app's `getToken`, or from the built-in session, refreshed with the refresh
 * token shortly before expiry or when the server refused the token. One refresh at a time: refresh tokens
 * rotate, so two concurrent refreshes would invalidate each other.
 */
export class Auth {
  private current: Session | undefined;
  private refreshing: Promise<string> | undefined;
  private refreshedAt = 0;

  constructor(private readonly options: AuthOptions) {
    this.current = options.session;
  }

  /** The built-in session, if logged in. */
  get session(): Session | undefined {
    return this.current;
  }

  /** Stores a new session (after login or signup) and announces it. */
  setSession(session: Session | undefined): void {
    this.current = session;
    this.options.onSession(session);
  }

  /** An access token; a fresh one when `request.refresh` or when the current one is about to expire. */
  async token(request: TokenRequest): Promise<string> {
    if (this.options.getToken) return this.options.getToken(request);
    const session = this.current;
    if (!session)
      throw new NatterError(ErrorCode.UNAUTHORIZED, 'not logged in: call login() or pass getToken');
    const margin = this.options.refreshMarginMs ?? 30_000;
    const now = this.options.now();
    const recentlyRefreshed = now - this.refreshedAt < FRESH_MS;
    if ((request.refresh && !recentlyRefreshed) || session.expiresAt - now < margin) return this.refresh();
    return session.accessToken;
  }

  private refresh(): Promise<string> {
    const session = this.current;
    if (!session) return Promise.reject(new NatterError(ErrorCode.UNAUTHORIZED, 'not logged in'));
    this.refreshing ??= (async () => {
      try {
        const next = await this.options.http.refresh(session.refreshToken);
        this.refreshedAt = this.options.now();
        this.setSession(next);
        return next.accessToken;
      } catch (err) {
        // A refused refresh token cannot recover: drop the session so the app asks the user to log in.
        if (REFUSED.has(errorCodeOf(err) ?? '') && this.current === session) this.setSession(undefined);
        throw err;
      } finally {
        this.refreshing = undefined;
      }
    })();
    return this.refreshing;
  }
}
