import { generateKeyPairSync } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';

/** A VAPID key pair in the form Web Push uses: base64url P-256 public point (65 bytes) and private scalar. */
export interface VapidKeys {
  publicKey: string;
  privateKey: string;
}

/** Creates a VAPID key pair. */
export function generateVapidKeys(): VapidKeys {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const pub = publicKey.export({ format: 'jwk' });
  const priv = privateKey.export({ format: 'jwk' });
  const point = Buffer.concat([
    Buffer.from([4]),
    Buffer.from(pub.x!, 'base64url'),
    Buffer.from(pub.y!, 'base64url'),
  ]);
  return { publicKey: point.toString('base64url'), privateKey: priv.d! };
}

/**
 * The server's VAPID keys: from `NATTER_VAPID_PUBLIC_KEY`/`NATTER_VAPID_PRIVATE_KEY`, else generated once and
 * kept in `file` (mode 0600), so browser subscriptions stay valid across restarts.
 */
export function loadVapidKeys(file: string): VapidKeys {
  const { NATTER_VAPID_PUBLIC_KEY: publicKey, NATTER_VAPID_PRIVATE_KEY: privateKey } = process.env;
  if (publicKey && privateKey) return { publicKey, privateKey };
  if (!existsSync(file)) {
    writeFileSync(file, JSON.stringify(generateVapidKeys()), { mode: 0o600 });
    chmodSync(file, 0o600);
  }
  return JSON.parse(readFileSync(file, 'utf8')) as VapidKeys;
}
