import { createHash, timingSafeEqual } from 'node:crypto';
import { ErrorCode, NatterError, SERVER_API_SCOPES, type ServerApiScope } from '@natter/protocol';

/** One key of the server API, as configured. Give the key itself, or only its SHA-256 (hex). */
export interface ServerApiKey {
  /** A name for logs and metrics, e.g. `billing-service`. Never the key. */
  name: string;
  /** The key (at least 32 characters): `openssl rand -base64 36`. Only its hash is kept in memory. */
  key?: string;
  /** The key's SHA-256, lower-case hex, so the key itself need not be in the configuration. */
  sha256?: string;
  /** What the key may do; `'*'` for every scope. */
  scopes: readonly ServerApiScope[] | '*';
}

/** Options of the server API for app backends. */
export interface ServerApiOptions {
  /** The keys that may call `/v1/server/...`. Without any, the server API answers 404. */
  keys: readonly ServerApiKey[];
  /**
   * The user id messages and membership changes made "as the app" carry as their sender or actor. It
   * names no account: clients show it as the app. @default 'app'
   */
  appUserId?: string;
}

interface KnownKey {
  name: string;
  hash: Buffer;
  scopes: ReadonlySet<ServerApiScope>;
}

const MIN_KEY_CHARS = 32;
const BEARER = /^Bearer +(\S+) *$/i;

const sha256 = (value: string): Buffer => createHash('sha256').update(value).digest();

/**
 * The configured server API keys, kept as SHA-256 hashes. A presented key is hashed and compared with
 * every configured hash in constant time, so neither timing nor an early exit tells how close a guess was.
 */
export class ApiKeys {
  private readonly keys: KnownKey[];

  /** @throws TypeError or RangeError for a key that is short, unnamed, malformed or has unknown scopes. */
  constructor(keys: readonly ServerApiKey[]) {
    this.keys = keys.map((key, index) => {
      if (!key.name) throw new TypeError(`serverApi.keys[${index}].name is missing`);
      if ((key.key === undefined) === (key.sha256 === undefined))
        throw new TypeError(`serverApi.keys[${index}] needs exactly one of key, sha256`);
      if (key.key !== undefined && key.key.length < MIN_KEY_CHARS)
        throw new RangeError(
          `serverApi.keys[${index}].key must be at least ${MIN_KEY_CHARS} characters: make one with \`openssl rand -base64 36\``,
        );
      if (key.sha256 !== undefined && !/^[0-9a-f]{64}$/.test(key.sha256))
        throw new TypeError(`serverApi.keys[${index}].sha256 must be 64 lower-case hex characters`);
      const scopes = key.scopes === '*' ? SERVER_API_SCOPES : key.scopes;
      for (const scope of scopes) {
        if (!SERVER_API_SCOPES.includes(scope))
          throw new TypeError(`serverApi.keys[${index}] has an unknown scope ${String(scope)}`);
      }
      return {
        name: key.name,
        hash: key.key !== undefined ? sha256(key.key) : Buffer.from(key.sha256!, 'hex'),
        scopes: new Set(scopes),
      };
    });
  }

  /** True when at least one key is configured. */
  get enabled(): boolean {
    return this.keys.length > 0;
  }

  /**
   * The name of the key in the request's `Authorization: Bearer` header, when it holds `scope`.
   * @throws NatterError UNAUTHORIZED for a missing or unknown key, INSUFFICIENT_SCOPE for a known key
   * without the scope.
   */
  authorize(request: Request, scope: ServerApiScope): string {
    const presented = BEARER.exec(request.headers.get('authorization') ?? '')?.[1];
    if (!presented || presented.length > 512)
      throw new NatterError(ErrorCode.UNAUTHORIZED, 'missing API key');
    const hash = sha256(presented);
    let match: KnownKey | undefined;
    for (const key of this.keys) {
      if (timingSafeEqual(key.hash, hash) && !match) match = key;
    }
    if (!match) throw new NatterError(ErrorCode.UNAUTHORIZED, 'invalid API key');
    if (!match.scopes.has(scope)) {
      throw new NatterError(
        ErrorCode.INSUFFICIENT_SCOPE,
        `the API key ${match.name} lacks the scope ${scope}`,
      );
    }
    return match.name;
  }
}
