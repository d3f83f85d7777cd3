import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, exportSPKI, generateKeyPair, type JWK, SignJWT } from 'jose';

/** A key pair of the app's identity provider, and a way to sign its tokens. */
export interface IdentityProvider {
  readonly issuer: string;
  readonly audience: string;
  readonly publicJwk: JWK;
  readonly publicPem: string;
  /** Signs a token with the provider's key; `claims` may override anything. */
  sign(
    claims: Record<string, unknown>,
    options?: { expiresInSeconds?: number; kid?: string },
  ): Promise<string>;
}

/** Makes an RS256 identity provider (`kid` `k1`). */
export async function identityProvider(issuer = 'https://id.example.test/'): Promise<IdentityProvider> {
  const { publicKey, privateKey } = await generateKeyPair('RS256', { extractable: true });
  const publicJwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
  return {
    issuer,
    audience: 'chat-app',
    publicJwk,
    publicPem: await exportSPKI(publicKey),
    async sign(claims, options = {}) {
      const now = Math.floor(Date.now() / 1000);
      return new SignJWT({
        iss: issuer,
        aud: 'chat-app',
        iat: now,
        exp: now + (options.expiresInSeconds ?? 600),
        ...claims,
      })
        .setProtectedHeader({ alg: 'RS256', kid: options.kid ?? 'k1' })
        .sign(privateKey);
    },
  };
}

/** A real JWKS endpoint on 127.0.0.1 that a test can take down (500s) and bring back. */
export interface JwksServer {
  readonly url: string;
  /** How many times the key set was fetched. */
  readonly fetches: number;
  /** While down, every request answers 500. */
  setDown(down: boolean): void;
  close(): Promise<void>;
}

export async function startJwksServer(keys: JWK[]): Promise<JwksServer> {
  let down = false;
  let fetches = 0;
  const server: Server = createServer((_req, res) => {
    fetches++;
    if (down) {
      res.writeHead(500).end('down');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/jwks.json`,
    get fetches() {
      return fetches;
    },
    setDown(value) {
      down = value;
    },
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
