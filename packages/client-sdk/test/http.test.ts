import { ErrorCode } from '@natter/protocol';
import { describe, expect, it, vi } from 'vitest';
import { Auth } from '../src/auth.js';
import { HttpClient, type HttpClient as HttpClientType, type Session } from '../src/http.js';
import type { FetchInitLike, FetchLike, FetchResponseLike } from '../src/transport.js';

interface Call {
  url: string;
  init: FetchInitLike | undefined;
}

function response(status: number, body?: unknown, headers: Record<string, string> = {}): FetchResponseLike {
  return {
    ok: status >= 200 && status < 300,
    status,
    headers: { get: (name) => headers[name.toLowerCase()] ?? null },
    text: async () => (body === undefined ? '' : typeof body === 'string' ? body : JSON.stringify(body)),
  };
}

function fakeFetch(answer: (call: Call) => FetchResponseLike | Promise<FetchResponseLike>) {
  const calls: Call[] = [];
  const fetch: FetchLike = async (url, init) => {
    const call = { url, init };
    calls.push(call);
    return answer(call);
  };
  return { fetch, calls };
}

const session = (n: number, expiresAt = Date.now() + 600_000): Session => ({
  user: { id: 'u_1', username: 'ada', displayName: 'Ada', createdAt: 1 },
  deviceId: 'dev_1',
  accessToken: `access-${n}`,
  refreshToken: `refresh-${n}`,
  expiresAt,
});

describe('HttpClient', () => {
  it('sends JSON with the bearer token and returns the typed body', async () => {
    const channel = {
      id: 'd_1',
      kind: 'direct',
      name: null,
      createdBy: 'u_1',
      createdAt: 1,
      memberIds: ['u_1', 'u_2'],
    };
    const { fetch, calls } = fakeFetch(() => response(200, { channel }));
    const http = new HttpClient({ baseUrl: 'https://chat.test/', fetch, accessToken: async () => 'tok' });
    expect(await http.openDirect('u_2')).toEqual(channel);
    expect(calls[0]?.url).toBe('https://chat.test/v1/channels/direct');
    expect(calls[0]?.init).toMatchObject({
      method: 'POST',
      body: '{"userId":"u_2"}',
      headers: { authorization: 'Bearer tok', 'content-type': 'application/json' },
    });
  });

  it('builds query strings and escapes path segments', async () => {
    const { fetch, calls } = fakeFetch(() =>
      response(200, { messages: [], hasMoreBefore: false, hasMoreAfter: false, users: [] }),
    );
    const http = new HttpClient({ baseUrl: 'https://chat.test', fetch, accessToken: async () => 't' });
    await http.history('g:1', { before: 10, limit: 5 });
    await http.searchUsers('a b');
    await http.presence({ userIds: ['u_1', 'u_2'] });
    expect(calls.map((c) => c.url)).toEqual([
      'https://chat.test/v1/channels/g%3A1/messages?before=10&limit=5',
      'https://chat.test/v1/users?prefix=a%20b',
      'https://chat.test/v1/presence?userIds=u_1%2Cu_2',
    ]);
  });

  it('turns error bodies into NatterErrors with the server code and retry delay', async () => {
    const { fetch } = fakeFetch(() =>
      response(429, { error: { code: ErrorCode.RATE_LIMITED, message: 'slow down', retryAfterMs: 1500 } }),
    );
    const http = new HttpClient({ baseUrl: 'https://chat.test', fetch, accessToken: async () => 't' });
    await expect(http.listChannels()).rejects.toMatchObject({
      name: 'NatterError',
      code: ErrorCode.RATE_LIMITED,
      message: 'slow down',
      retryAfterMs: 1500,
    });
  });

  it('maps bare HTTP statuses (a proxy answered) to codes, reading Retry-After', async () => {
    const statuses = [502, 503, 404, 413];
    const { fetch } = fakeFetch(() =>
      response(statuses.shift()!, '<html>bad gateway</html>', { 'retry-after': '2' }),
    );
    const http = new HttpClient({ baseUrl: 'https://chat.test', fetch, accessToken: async () => 't' });
    await expect(http.me()).rejects.toMatchObject({ code: ErrorCode.INTERNAL });
    await expect(http.me()).rejects.toMatchObject({ code: ErrorCode.UNAVAILABLE, retryAfterMs: 2000 });
    await expect(http.me()).rejects.toMatchObject({ code: ErrorCode.NOT_FOUND });
    await expect(http.me()).rejects.toMatchObject({ code: ErrorCode.MESSAGE_TOO_LARGE });
  });

  it('reports network failures as retryable NATTER_UNAVAILABLE', async () => {
    const http = new HttpClient({
      baseUrl: 'https://chat.test',
      fetch: async () => {
        throw new TypeError('fetch failed');
      },
      accessToken: async () => 't',
    });
    await expect(http.me()).rejects.toMatchObject({
      code: ErrorCode.UNAVAILABLE,
      message: 'network error: fetch failed',
    });
  });

  it('retries once with a fresh token after a 401', async () => {
    const { fetch, calls } = fakeFetch((call) =>
      call.init?.headers?.authorization === 'Bearer fresh'
        ? response(200, { user: { id: 'u_1', username: 'ada', displayName: 'Ada', createdAt: 1 } })
        : response(401, { error: { code: ErrorCode.TOKEN_EXPIRED, message: 'expired' } }),
    );
    const refreshes: boolean[] = [];
    const http = new HttpClient({
      baseUrl: 'https://chat.test',
      fetch,
      accessToken: async (refresh) => {
        refreshes.push(refresh);
        return refresh ? 'fresh' : 'stale';
      },
    });
    expect(await http.me()).toEqual({ id: 'u_1', username: 'ada', displayName: 'Ada', createdAt: 1 });
    expect(refreshes).toEqual([false, true]);
    expect(calls).toHaveLength(2);
  });

  it('fails authenticated calls clearly when not logged in', async () => {
    const { fetch, calls } = fakeFetch(() => response(200, {}));
    const http = new HttpClient({ baseUrl: 'https://chat.test', fetch });
    await expect(http.me()).rejects.toMatchObject({ code: ErrorCode.UNAUTHORIZED });
    expect(calls).toHaveLength(0);
  });
});

describe('Auth', () => {
  function setup(initial: Session | undefined, refresh: (token: string) => Promise<Session>) {
    const sessions: (Session | undefined)[] = [];
    const http = { refresh } as unknown as HttpClientType;
    const auth = new Auth({
      http,
      ...(initial ? { session: initial } : {}),
      now: () => Date.now(),
      onSession: (s) => sessions.push(s),
    });
    return { auth, sessions };
  }

  it('hands out the current token while it is valid', async () => {
    const { auth } = setup(session(1), async () => session(2));
    expect(await auth.token({ refresh: false })).toBe('access-1');
  });

  it('refreshes shortly before expiry, and only once for concurrent callers', async () => {
    let refreshes = 0;
    const { auth, sessions } = setup(session(1, Date.now() + 5_000), async (token) => {
      refreshes++;
      expect(token).toBe('refresh-1');
      await new Promise((resolve) => setTimeout(resolve, 10));
      return session(2);
    });
    const tokens = await Promise.all([
      auth.token({ refresh: false }),
      auth.token({ refresh: true }),
      auth.token({ refresh: false }),
    ]);
    expect(tokens).toEqual(['access-2', 'access-2', 'access-2']);
    expect(refreshes).toBe(1);
    expect(sessions.map((s) => s?.accessToken)).toEqual(['access-2']);
    // A second "refused" right after a refresh does not burn the new refresh token.
    expect(await auth.token({ refresh: true })).toBe('access-2');
    expect(refreshes).toBe(1);
  });

  it('ends the session when the refresh token is refused', async () => {
    const { auth, sessions } = setup(session(1, 0), async () => {
      throw Object.assign(new Error('invalid refresh token'), { code: ErrorCode.UNAUTHORIZED });
    });
    await expect(auth.token({ refresh: false })).rejects.toMatchObject({ code: ErrorCode.UNAUTHORIZED });
    expect(sessions).toEqual([undefined]);
    expect(auth.session).toBeUndefined();
    await expect(auth.token({ refresh: false })).rejects.toMatchObject({ code: ErrorCode.UNAUTHORIZED });
  });

  it('keeps the session when a refresh fails for a network reason', async () => {
    const { auth } = setup(session(1, 0), async () => {
      throw Object.assign(new Error('network error'), { code: ErrorCode.UNAVAILABLE });
    });
    await expect(auth.token({ refresh: false })).rejects.toMatchObject({ code: ErrorCode.UNAVAILABLE });
    expect(auth.session?.refreshToken).toBe('refresh-1');
  });

  it('adopts a newer session handed in without announcing it, and ignores older ones', async () => {
    const { auth, sessions } = setup(session(1, Date.now() + 60_000), async () => session(9));
    expect(auth.adopt(session(2, Date.now() + 120_000))).toBe(true);
    expect(await auth.token({ refresh: false })).toBe('access-2');
    // An echo of the same session, or an older one arriving late, changes nothing.
    expect(auth.adopt(session(2, Date.now() + 120_000))).toBe(false);
    expect(auth.adopt(session(1, Date.now() + 60_000))).toBe(false);
    expect(auth.session?.accessToken).toBe('access-2');
    // A 4001 for the old token right after: the adopted token is fresh, no refresh token is spent.
    expect(await auth.token({ refresh: true })).toBe('access-2');
    expect(sessions).toEqual([]);
    const other = { ...session(3), user: { ...session(3).user, id: 'u_2' } };
    expect(() => auth.adopt(other)).toThrow(expect.objectContaining({ code: ErrorCode.BAD_REQUEST }));
  });

  describe('two clients resuming one saved session (tabs)', () => {
    /** The server's side: one-time refresh tokens, like TokenService. */
    function sharedSetup(lock?: <T>(name: string, run: () => Promise<T>) => Promise<T>) {
      let saved: Session | undefined = session(1, Date.now() + 1_000); // about to expire
      let issued = 1;
      const valid = new Set(['refresh-1']);
      const refreshCalls: string[] = [];
      const http = {
        refresh: async (token: string) => {
          refreshCalls.push(token);
          if (!valid.delete(token))
            throw Object.assign(new Error('invalid refresh token'), { code: ErrorCode.UNAUTHORIZED });
          const next = session(++issued, Date.now() + 600_000);
          valid.add(next.refreshToken);
          await new Promise((resolve) => setTimeout(resolve, 5));
          return next;
        },
      } as unknown as HttpClientType;
      const tab = () => {
        const sessions: (Session | undefined)[] = [];
        const auth = new Auth({
          http,
          session: saved!,
          now: () => Date.now(),
          // What the app does with the `session` event: save it where the other tabs read it.
          onSession: (s) => {
            sessions.push(s);
            saved = s;
          },
          loadSession: () => saved,
          ...(lock ? { lock } : {}),
        });
        return { auth, sessions };
      };
      return { tab, refreshCalls };
    }

    it('the refresh that loses the race takes the winner saved session instead of signing out', async () => {
      const { tab, refreshCalls } = sharedSetup();
      const a = tab();
      const b = tab();
      const tokens = await Promise.all([a.auth.token({ refresh: true }), b.auth.token({ refresh: true })]);
      expect(refreshCalls).toEqual(['refresh-1', 'refresh-1']);
      expect(tokens).toEqual(['access-2', 'access-2']);
      expect(b.auth.session?.refreshToken).toBe('refresh-2');
      expect([...a.sessions, ...b.sessions].filter((s) => s === undefined)).toEqual([]);
    });

    it('still ends a session whose refresh token was really refused, after a short grace', async () => {
      vi.useFakeTimers();
      try {
        const sessions: (Session | undefined)[] = [];
        const auth = new Auth({
          http: {
            refresh: async () => {
              throw Object.assign(new Error('invalid refresh token'), { code: ErrorCode.UNAUTHORIZED });
            },
          } as unknown as HttpClientType,
          session: session(1, 0),
          now: () => Date.now(),
          onSession: (s) => sessions.push(s),
          loadSession: () => session(1, 0), // nothing newer was saved
        });
        const token = auth.token({ refresh: false });
        token.catch(() => {});
        await vi.advanceTimersByTimeAsync(1_000);
        expect(sessions).toEqual([]);
        await vi.advanceTimersByTimeAsync(1_100);
        await expect(token).rejects.toMatchObject({ code: ErrorCode.UNAUTHORIZED });
        expect(sessions).toEqual([undefined]);
      } finally {
        vi.useRealTimers();
      }
    });

    it('with a lock only one client refreshes; the other takes the saved session', async () => {
      let queue: Promise<unknown> = Promise.resolve();
      const lock = <T>(_name: string, run: () => Promise<T>): Promise<T> => {
        const result = queue.then(run);
        queue = result.catch(() => undefined);
        return result;
      };
      const { tab, refreshCalls } = sharedSetup(lock);
      const a = tab();
      const b = tab();
      const tokens = await Promise.all([a.auth.token({ refresh: false }), b.auth.token({ refresh: false })]);
      expect(refreshCalls).toEqual(['refresh-1']);
      expect(tokens).toEqual(['access-2', 'access-2']);
      expect(b.sessions).toEqual([]);
    });
  });

  it('uses the app token provider instead when given one', async () => {
    const requests: boolean[] = [];
    const auth = new Auth({
      http: {} as HttpClientType,
      getToken: ({ refresh }) => {
        requests.push(refresh);
        return `app-${requests.length}`;
      },
      now: Date.now,
      onSession: () => {},
    });
    expect(await auth.token({ refresh: false })).toBe('app-1');
    expect(await auth.token({ refresh: true })).toBe('app-2');
    expect(requests).toEqual([false, true]);
  });
});
