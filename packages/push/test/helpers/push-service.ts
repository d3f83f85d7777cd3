import {
  createDecipheriv,
  createECDH,
  createPublicKey,
  type ECDH,
  hkdfSync,
  randomBytes,
  verify,
} from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Agent, createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';

const fixture = (name: string) => readFileSync(new URL(`../fixtures/${name}`, import.meta.url));
const CERT = fixture('localhost-cert.pem');
const KEY = fixture('localhost-key.pem');

/** A browser's side of a subscription: what it sends natter, and the private half it decrypts with. */
export interface BrowserSubscription {
  subscription: { kind: 'webpush'; endpoint: string; keys: { p256dh: string; auth: string } };
  ecdh: ECDH;
  authSecret: Buffer;
}

/** One request the push service received, checked the way a real push service and browser would. */
export interface ReceivedPush {
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  /** Status the service answered. */
  status: number;
  /** VAPID (RFC 8292): the JWT verified against `k`, with its claims. */
  vapid: { valid: boolean; publicKey: string; aud: string; sub: string; exp: number };
  /** The RFC 8291 plaintext, parsed as JSON. */
  payload: unknown;
}

/** What a browser's `pushManager.subscribe()` makes: a P-256 key pair and a 16-byte auth secret. */
export function browserKeys() {
  const ecdh = createECDH('prime256v1');
  ecdh.generateKeys();
  const authSecret = randomBytes(16);
  return {
    ecdh,
    authSecret,
    keys: { p256dh: ecdh.getPublicKey().toString('base64url'), auth: authSecret.toString('base64url') },
  };
}

/**
 * RFC 8291 (aes128gcm, RFC 8188) decryption as the browser does it: ECDH between the subscription's private
 * key and the sender's ephemeral key (the record header's keyid), HKDF with the auth secret, then AES-128-GCM.
 */
export function decryptWebPush(body: Buffer, ecdh: ECDH, authSecret: Buffer): Buffer {
  const salt = body.subarray(0, 16);
  const recordSize = body.readUInt32BE(16);
  const idLength = body[20]!;
  const senderPublic = body.subarray(21, 21 + idLength);
  const ciphertext = body.subarray(21 + idLength);
  if (idLength !== 65) throw new Error(`keyid must be the 65-byte sender key, got ${idLength}`);
  if (ciphertext.length > recordSize) throw new Error('expected a single record');
  const ecdhSecret = ecdh.computeSecret(senderPublic);
  const keyInfo = Buffer.concat([Buffer.from('WebPush: info\0'), ecdh.getPublicKey(), senderPublic]);
  const ikm = Buffer.from(hkdfSync('sha256', ecdhSecret, authSecret, keyInfo, 32));
  const cek = Buffer.from(hkdfSync('sha256', ikm, salt, Buffer.from('Content-Encoding: aes128gcm\0'), 16));
  const nonce = Buffer.from(hkdfSync('sha256', ikm, salt, Buffer.from('Content-Encoding: nonce\0'), 12));
  const decipher = createDecipheriv('aes-128-gcm', cek, nonce);
  decipher.setAuthTag(ciphertext.subarray(-16));
  const padded = Buffer.concat([decipher.update(ciphertext.subarray(0, -16)), decipher.final()]);
  let end = padded.length - 1;
  while (end >= 0 && padded[end] === 0) end--;
  if (padded[end] !== 2) throw new Error('missing the last-record delimiter');
  return padded.subarray(0, end);
}

function verifyVapid(header: string | undefined, origin: string): ReceivedPush['vapid'] {
  const match = /^vapid t=([^,\s]+),\s*k=([A-Za-z0-9_-]+)$/.exec(header ?? '');
  if (!match) return { valid: false, publicKey: '', aud: '', sub: '', exp: 0 };
  const [, jwt, k] = match as unknown as [string, string, string];
  const [head, claims, signature] = jwt.split('.') as [string, string, string];
  const point = Buffer.from(k, 'base64url');
  const key = createPublicKey({
    key: {
      kty: 'EC',
      crv: 'P-256',
      x: point.subarray(1, 33).toString('base64url'),
      y: point.subarray(33).toString('base64url'),
    },
    format: 'jwk',
  });
  const { alg } = JSON.parse(Buffer.from(head, 'base64url').toString()) as { alg: string };
  const body = JSON.parse(Buffer.from(claims, 'base64url').toString()) as {
    aud: string;
    sub: string;
    exp: number;
  };
  const signed = verify(
    'sha256',
    Buffer.from(`${head}.${claims}`),
    { key, dsaEncoding: 'ieee-p1363' },
    Buffer.from(signature, 'base64url'),
  );
  const now = Date.now() / 1000;
  const fresh = body.exp > now && body.exp <= now + 24 * 3600;
  return { valid: alg === 'ES256' && signed && body.aud === origin && fresh, publicKey: k, ...body };
}

/** A local push service over TLS: receives Web Push requests, checks VAPID, decrypts payloads. */
export class FakePushService {
  readonly received: ReceivedPush[] = [];
  /** Status to answer for the next request to an endpoint path. @default 201 */
  respond: (path: string) => number = () => 201;
  /** Trusts the test certificate; pass it as `webPush.agent`. */
  readonly agent = new Agent({ ca: CERT, keepAlive: false });
  private readonly browsers = new Map<string, BrowserSubscription>();

  private constructor(
    private readonly server: Server,
    readonly origin: string,
  ) {
    server.on('request', (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const path = req.url ?? '/';
        const body = Buffer.concat(chunks);
        const browser = this.browsers.get(path);
        let payload: unknown;
        try {
          payload = browser
            ? JSON.parse(decryptWebPush(body, browser.ecdh, browser.authSecret).toString())
            : undefined;
        } catch (err) {
          payload = { decryptError: String(err) };
        }
        const status = this.respond(path);
        this.received.push({
          path,
          headers: req.headers,
          body,
          status,
          vapid: verifyVapid(req.headers.authorization, this.origin),
          payload,
        });
        res.writeHead(status).end();
      });
    });
  }

  static async start(): Promise<FakePushService> {
    const server = createServer({ cert: CERT, key: KEY });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return new FakePushService(server, `https://127.0.0.1:${(server.address() as AddressInfo).port}`);
  }

  /** A browser subscribing: a fresh P-256 key pair and auth secret, at a new endpoint. */
  subscribe(): BrowserSubscription {
    const { ecdh, authSecret, keys } = browserKeys();
    const path = `/push/${randomBytes(8).toString('hex')}`;
    const browser: BrowserSubscription = {
      subscription: { kind: 'webpush', endpoint: `${this.origin}${path}`, keys },
      ecdh,
      authSecret,
    };
    this.browsers.set(path, browser);
    return browser;
  }

  close(): Promise<void> {
    this.agent.destroy();
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}
