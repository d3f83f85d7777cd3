import { DEFAULT_RESOURCE_LIMITS } from '@natter/protocol';
import { createMemoryStorage } from '@natter/storage-memory';
import { AccountService } from '../src/accounts/account-service.js';
import { type AuthLimitOptions, AuthLimits } from '../src/accounts/auth-limits.js';
import { TokenService } from '../src/accounts/token-service.js';
import { ChatService } from '../src/chat/chat-service.js';
import { type NatterServerOptions, resolveConfig } from '../src/config.js';
import { createHttpApi, type HttpApi } from '../src/http/api.js';
import { silentLogger } from '../src/observability/logger.js';
import { createMetrics } from '../src/observability/metrics.js';
import type { Authenticator } from '../src/ports/authenticator.js';
import { MemoryPresenceStore } from '../src/presence/memory-presence-store.js';
import { PresenceService } from '../src/presence/presence-service.js';

/** Shared setup of the HTTP API tests: memory storage, a controllable clock, and a JSON client. */

export const SECRET = 'test-secret-test-secret-test-secret!';
export const PASSWORD = 'correct horse battery';

export interface HarnessOptions {
  allowedOrigins?: NatterServerOptions['allowedOrigins'];
  limits?: NatterServerOptions['limits'];
  maxBodyBytes?: number;
  allowSignup?: boolean;
  /** Signup and login limits; by default signups are unlimited here (they have tests of their own). */
  authLimits?: AuthLimitOptions;
  /** Use this authenticator and no built-in token service. */
  authenticator?: Authenticator;
}

export interface CallOptions {
  body?: unknown;
  /** Sent verbatim instead of `JSON.stringify(body)`. */
  rawBody?: string;
  token?: string;
  headers?: Record<string, string>;
  clientIp?: string;
}

export interface CallResult {
  status: number;
  headers: Headers;
  // biome-ignore lint/suspicious/noExplicitAny: test assertions read arbitrary JSON
  body: any;
}

export async function createHarness(options: HarnessOptions = {}) {
  const storage = createMemoryStorage();
  await storage.open();
  const clock = { now: Date.UTC(2030, 0, 1) };
  const now = () => clock.now;
  const config = resolveConfig({
    storage,
    now,
    ...(options.allowedOrigins !== undefined ? { allowedOrigins: options.allowedOrigins } : {}),
    ...(options.limits ? { limits: options.limits } : {}),
    ...(options.maxBodyBytes !== undefined ? { maxBodyBytes: options.maxBodyBytes } : {}),
  });
  const service = new ChatService({
    chat: storage.chat,
    accounts: storage.accounts,
    limits: config.limits,
    sink: { deliver() {} },
    now,
  });
  const tokens = options.authenticator
    ? undefined
    : new TokenService({ secret: SECRET }, storage.accounts, now);
  const metrics = createMetrics({ defaults: false });
  const logouts: Array<{ userId: string; deviceId: string | undefined }> = [];
  const presence = new PresenceService(
    new MemoryPresenceStore(),
    storage.chat,
    { sendToUsers() {} },
    silentLogger(),
    now,
  );
  const accounts = new AccountService({
    accounts: storage.accounts,
    tokens,
    // Harness tests sign up freely; the signup limit has tests of its own.
    limits: new AuthLimits(
      options.authLimits ?? {
        ...DEFAULT_RESOURCE_LIMITS,
        signupsPerAddress: { perSecond: 1_000, burst: 1_000 },
      },
      now,
    ),
    allowSignup: options.allowSignup ?? true,
    minPasswordScore: 2,
    now,
  });
  const api: HttpApi = createHttpApi({
    service,
    presence,
    accounts,
    authenticator: options.authenticator ?? tokens!,
    config,
    logger: silentLogger(),
    metrics,
    discovery: async () => ({ wsUrl: 'ws://chat.example/v1/ws', region: 'eu-1' }),
    node: () => ({ nodeId: 'node_test', region: 'eu-1', draining: false }),
    onLogout: (userId, deviceId) => logouts.push({ userId, deviceId }),
  });

  async function call(method: string, path: string, opts: CallOptions = {}): Promise<CallResult> {
    const headers = new Headers(opts.headers);
    if (opts.token) headers.set('authorization', `Bearer ${opts.token}`);
    let body: string | undefined = opts.rawBody;
    if (body === undefined && opts.body !== undefined) body = JSON.stringify(opts.body);
    if (body !== undefined) headers.set('content-type', 'application/json');
    const request = new Request(`http://api.test${path}`, {
      method,
      headers,
      ...(body !== undefined ? { body } : {}),
    });
    const response = await api.fetch(request, opts.clientIp ? { clientIp: opts.clientIp } : undefined);
    const text = await response.text();
    return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : undefined };
  }

  /** Signs up through the API and returns the session. */
  async function signup(username: string, password = PASSWORD) {
    const res = await call('POST', '/v1/auth/signup', { body: { username, password } });
    if (res.status !== 201) throw new Error(`signup failed: ${JSON.stringify(res.body)}`);
    return {
      userId: res.body.user.id as string,
      token: res.body.accessToken as string,
      refreshToken: res.body.refreshToken as string,
      deviceId: res.body.deviceId as string,
    };
  }

  /** Creates a user row directly (no scrypt): for tests that need many users. */
  async function addUser(id: string, username = id.toLowerCase()) {
    await storage.accounts.createUser({
      id,
      username,
      displayName: username,
      passwordHash: null,
      createdAt: clock.now,
    });
    return id;
  }

  /** An access token for any user id, without a login. */
  async function tokenFor(userId: string, deviceId = 'dev_test') {
    return (await tokens!.issue(userId, deviceId)).accessToken;
  }

  return { storage, clock, config, service, tokens, metrics, logouts, api, call, signup, addUser, tokenFor };
}

export type Harness = Awaited<ReturnType<typeof createHarness>>;
