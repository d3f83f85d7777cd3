/**
 * Demo accounts for local trials: alice, bob and carol, a group with all three and a 1-1 between alice and
 * bob, created through the server's own HTTP API (so passwords are hashed and every rule applies).
 */

/** The seeded users. */
export const DEMO_USERS = [
  { username: 'alice', displayName: 'Alice' },
  { username: 'bob', displayName: 'Bob' },
  { username: 'carol', displayName: 'Carol' },
] as const;

/** Their password (public: seed only servers nobody else can reach). */
export const DEMO_PASSWORD = 'natter-demo';

/** The seeded group's name. */
export const DEMO_GROUP = 'Demo group';

/** Whether `host` only accepts connections from this machine. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

/** Seeding is on for loopback binds unless `NATTER_DEMO_USERS=0`, and anywhere with `NATTER_DEMO_USERS=1`. */
export function demoUsersEnabled(setting: string | undefined, host: string): boolean {
  if (setting === '0' || setting === 'false') return false;
  if (setting === '1' || setting === 'true') return true;
  return isLoopbackHost(host);
}

type Fetch = (request: Request) => Promise<Response>;

interface Account {
  id: string;
  token: string;
}

async function call<T>(fetchFn: Fetch, method: string, path: string, token?: string, body?: unknown) {
  const response = await fetchFn(
    new Request(`http://localhost${path}`, {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    }),
  );
  const text = await response.text();
  return { status: response.status, body: (text ? JSON.parse(text) : undefined) as T };
}

async function account(
  fetchFn: Fetch,
  username: string,
  displayName: string,
): Promise<Account & { created: boolean }> {
  type SessionBody = { user: { id: string }; accessToken: string };
  const credentials = { username, password: DEMO_PASSWORD };
  const signup = await call<SessionBody>(fetchFn, 'POST', '/v1/auth/signup', undefined, {
    ...credentials,
    displayName,
  });
  if (signup.status === 201)
    return { id: signup.body.user.id, token: signup.body.accessToken, created: true };
  const login = await call<SessionBody>(fetchFn, 'POST', '/v1/auth/login', undefined, credentials);
  if (login.status !== 200)
    throw new Error(`demo user ${username} exists with another password (login answered ${login.status})`);
  return { id: login.body.user.id, token: login.body.accessToken, created: false };
}

/** What {@link seedDemo} did. */
export interface SeedResult {
  createdUsers: string[];
  createdGroup: boolean;
}

/**
 * Creates the demo users, group and 1-1 when missing; idempotent. `fetchFn` is the server's fetch handler.
 * The seeding devices are logged out afterwards, so no usable refresh token is left behind.
 */
export async function seedDemo(fetchFn: Fetch): Promise<SeedResult> {
  const accounts: Array<Account & { created: boolean }> = [];
  for (const user of DEMO_USERS) accounts.push(await account(fetchFn, user.username, user.displayName));
  const [alice, bob, carol] = accounts;
  if (!alice || !bob || !carol) throw new Error('demo users missing');
  try {
    const channels = await call<{ channels: Array<{ kind: string; name: string | null }> }>(
      fetchFn,
      'GET',
      '/v1/channels',
      alice.token,
    );
    const hasGroup = channels.body.channels.some((ch) => ch.kind === 'group' && ch.name === DEMO_GROUP);
    if (!hasGroup) {
      const group = await call(fetchFn, 'POST', '/v1/groups', alice.token, {
        name: DEMO_GROUP,
        memberIds: [bob.id, carol.id],
      });
      if (group.status !== 201) throw new Error(`creating the demo group answered ${group.status}`);
    }
    const direct = await call(fetchFn, 'POST', '/v1/channels/direct', alice.token, { userId: bob.id });
    if (direct.status !== 200) throw new Error(`opening the demo 1-1 answered ${direct.status}`);
    return {
      createdUsers: DEMO_USERS.filter((_, i) => accounts[i]!.created).map((u) => u.username),
      createdGroup: !hasGroup,
    };
  } finally {
    for (const a of accounts) await call(fetchFn, 'POST', '/v1/auth/logout', a.token).catch(() => undefined);
  }
}
