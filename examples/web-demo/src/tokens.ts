/**
 * Access tokens for every tab of one account, through the SDK's `getToken` option.
 *
 * Refresh tokens are one-time: if two tabs refreshed with the same one, the second would be refused and
 * signed out. So the session is shared in localStorage and refreshed under a Web Lock: the first tab that
 * needs a new token refreshes and saves it; the others find it already saved and use it.
 */
import {
  ErrorCode,
  type HttpClient,
  isNatterError,
  NatterError,
  type Session,
  type TokenProvider,
} from '@natter/client';
import { forgetSession, loadSession, saveSession } from './accounts.js';

/** Refresh this long before the access token expires. */
const REFRESH_MARGIN_MS = 30_000;

interface LockManagerLike {
  request<T>(name: string, callback: () => Promise<T>): Promise<T>;
}

/** Runs `fn` under a lock shared by the tabs of this origin (not at all where Web Locks are missing). */
function withLock<T>(name: string, fn: () => Promise<T>): Promise<T> {
  const locks = (navigator as { locks?: LockManagerLike }).locks;
  return locks ? locks.request(name, fn) : fn();
}

/**
 * A token provider for `username`. `http` refreshes the session (an `HttpClient` without a token supplier
 * is enough: refresh needs no bearer token). `onEnded` runs when the server refused the refresh token.
 */
export function sharedTokenProvider(
  username: string,
  http: Pick<HttpClient, 'refresh'>,
  onEnded: () => void,
  now: () => number = Date.now,
): TokenProvider {
  return async ({ refresh }) => {
    const seen = loadSession(username);
    if (!seen) throw new NatterError(ErrorCode.UNAUTHORIZED, 'signed out');
    if (!refresh && seen.expiresAt - now() > REFRESH_MARGIN_MS) return seen.accessToken;
    return withLock(`natter-demo.refresh.${username}`, async () => {
      const latest = loadSession(username);
      if (!latest) throw new NatterError(ErrorCode.UNAUTHORIZED, 'signed out');
      // Another tab refreshed while this one waited for the lock.
      if (latest.accessToken !== seen.accessToken && latest.expiresAt - now() > REFRESH_MARGIN_MS)
        return latest.accessToken;
      let next: Session;
      try {
        next = await http.refresh(latest.refreshToken);
      } catch (err) {
        if (isNatterError(err) && err.code === ErrorCode.UNAUTHORIZED) {
          forgetSession(username);
          onEnded();
        }
        throw err;
      }
      saveSession(next);
      return next.accessToken;
    });
  };
}
