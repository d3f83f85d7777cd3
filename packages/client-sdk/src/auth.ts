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
  /** Called whenever the session changes (login, refresh, logout, refresh failure); not for adopted sessions. */
  onSession: (session: Session | undefined) => void;
  /**
   * Reads the newest session the app saved (shared by the tabs of a browser, e.g. in localStorage). Consulted
   * before every refresh and after a refused one: a newer saved session is adopted instead of refreshing.
   */
  loadSession?: () => Session | undefined | Promise<Session | undefined>;
  /**
   * Runs a refresh under a lock shared with other clients of the session. @default the Web Locks API
   * (`navigator.locks`) when there is one and `loadSession` is given, else no lock
   */
  lock?: <T>(name: string, run: () => Promise<T>) => Promise<T>;
  /** Refresh this long before the access token expires, ms. @default 30000 */
  refreshMarginMs?: number;
}

const FRESH_MS = 5_000;
// After a refused refresh, how long to look for the session of the client that won the race (loadSession).
const REFUSED_GRACE_MS = 2_000;
const REFUSED_POLL_MS = 50;
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

  /**
   * Takes over a session obtained elsewhere (another tab refreshed it) without announcing it. Returns false,
   * changing nothing, when it is not newer than the current one.
   * @throws NatterError NATTER_BAD_REQUEST for a session of another user.
   */
  adopt(session: Session): boolean {
    const current = this.current;
    if (current && current.user.id !== session.user.id)
      throw new NatterError(ErrorCode.BAD_REQUEST, 'the session belongs to another user');
    if (!isNewer(session, current)) return false;
    this.current = session;
    // Counts as a refresh: a 4001 for the old token must not spend the new refresh token at once.
    this.refreshedAt = this.options.now();
    return true;
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
    if (!this.refreshing) {
      const lock = this.lockFor();
      const run = () => this.refreshFrom(session);
      this.refreshing = (lock ? lock(`natter.session.${session.user.id}`, run) : run()).finally(() => {
        this.refreshing = undefined;
      });
    }
    return this.refreshing;
  }

  private async refreshFrom(seen: Session): Promise<string> {
    // Another client may have refreshed first (refresh tokens are one-time): use its session if it saved one.
    if ((await this.adoptSaved()) || this.current !== seen) {
      const current = this.current;
      const margin = this.options.refreshMarginMs ?? 30_000;
      if (current && current.expiresAt - this.options.now() >= margin) return current.accessToken;
    }
    const session = this.current;
    if (!session) throw new NatterError(ErrorCode.UNAUTHORIZED, 'not logged in');
    try {
      const next = await this.options.http.refresh(session.refreshToken);
      this.refreshedAt = this.options.now();
      this.setSession(next);
      return next.accessToken;
    } catch (err) {
      if (!REFUSED.has(errorCodeOf(err) ?? '')) throw err;
      // Refused: another client may have used the refresh token first; its session is the one to use.
      if (await this.awaitNewer(session)) return this.current!.accessToken;
      // A refused refresh token cannot recover: drop the session so the app asks the user to log in.
      if (this.current === session) this.setSession(undefined);
      throw err;
    }
  }

  /**
   * After a refused refresh: whether a newer session than `refused` arrives (through `adopt`, or saved by the
   * app). With `loadSession` it waits a little, polling: the client that won the race may get its answer
   * after this one was refused.
   */
  private async awaitNewer(refused: Session): Promise<boolean> {
    for (let waited = 0; ; waited += REFUSED_POLL_MS) {
      if ((await this.adoptSaved()) || (this.current !== undefined && this.current !== refused)) return true;
      if (!this.options.loadSession || waited >= REFUSED_GRACE_MS) return false;
      await new Promise((resolve) => setTimeout(resolve, REFUSED_POLL_MS));
    }
  }

  /** Adopts the app's saved session when it is newer; false when there is none or it is not newer. */
  private async adoptSaved(): Promise<boolean> {
    const load = this.options.loadSession;
    if (!load) return false;
    let saved: Session | undefined;
    try {
      saved = await load();
    } catch {
      return false;
    }
    if (!saved || (this.current && saved.user.id !== this.current.user.id)) return false;
    return this.adopt(saved);
  }

  private lockFor(): AuthOptions['lock'] {
    if (this.options.lock) return this.options.lock;
    if (!this.options.loadSession) return undefined;
    const locks = (globalThis as { navigator?: { locks?: LockManagerLike } }).navigator?.locks;
    if (!locks || typeof locks.request !== 'function') return undefined;
    return (name, run) => locks.request(name, run);
  }
}

interface LockManagerLike {
  request<T>(name: string, callback: () => Promise<T>): Promise<T>;
}

/** Whether `session` should replace `current`: there is none, or it expires no earlier and differs. */
function isNewer(session: Session, current: Session | undefined): boolean {
  if (!current) return true;
  return session.expiresAt >= current.expiresAt && session.refreshToken !== current.refreshToken;
}
