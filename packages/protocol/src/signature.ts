/**
 * `@natter/protocol/signature`: how natter signs the webhooks it sends (push and event webhooks) and how a
 * receiver checks them: HMAC-SHA256 over `<t>.<raw body>` in the `X-Natter-Signature` header. Node only
 * (`node:crypto`); the rest of the protocol package stays isomorphic.
 * @packageDocumentation
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

/** The header that carries a webhook's signature: `t=<unix seconds>,v1=<hex HMAC-SHA256>`. */
export const SIGNATURE_HEADER = 'X-Natter-Signature';

/** How far a signature's timestamp may be from the receiver's clock before it is refused, seconds. */
export const DEFAULT_SIGNATURE_TOLERANCE_SECONDS = 300;

function hmacHex(secret: string, timestamp: number, body: string | Uint8Array): string {
  // The timestamp is part of what is signed, so an old request cannot be replayed with a fresh `t`.
  return createHmac('sha256', secret).update(`${timestamp}.`).update(body).digest('hex');
}

/**
 * Signs a webhook body: the value of {@link SIGNATURE_HEADER}, `t=<unix seconds>,v1=<hex>`, where the hex is
 * HMAC-SHA256 with `secret` over `<t>.<raw body>`.
 */
export function signWebhook(body: string | Uint8Array, secret: string, nowMs: number = Date.now()): string {
  const t = Math.floor(nowMs / 1000);
  return `t=${t},v1=${hmacHex(secret, t, body)}`;
}

/** Options of {@link verifyWebhookSignature}. */
export interface VerifyWebhookOptions {
  /** The raw request body exactly as received (not re-serialized JSON). */
  body: string | Uint8Array;
  /** The {@link SIGNATURE_HEADER} value. */
  header: string | null | undefined;
  /** The shared secret; give several while rotating it (any of them may match). */
  secret: string | readonly string[];
  /** Largest accepted distance between `t` and now, seconds. @default 300 */
  toleranceSeconds?: number;
  /** @default Date.now() */
  nowMs?: number;
}

/**
 * Checks a webhook request from natter: the signature must match the body and one of the secrets, and its
 * timestamp must be within `toleranceSeconds` of now (stops replays). Comparison is constant-time.
 * Returns false for anything malformed; never throws.
 */
export function verifyWebhookSignature(options: VerifyWebhookOptions): boolean {
  const { body, header } = options;
  if (typeof header !== 'string' || header.length > 1024) return false;
  let t: number | undefined;
  const signatures: string[] = [];
  for (const part of header.split(',')) {
    const eq = part.indexOf('=');
    const key = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (key === 't' && /^\d{1,12}$/.test(value)) t = Number(value);
    else if (key === 'v1' && /^[0-9a-f]{64}$/.test(value)) signatures.push(value);
  }
  if (t === undefined || signatures.length === 0) return false;
  const tolerance = options.toleranceSeconds ?? DEFAULT_SIGNATURE_TOLERANCE_SECONDS;
  const now = Math.floor((options.nowMs ?? Date.now()) / 1000);
  if (Math.abs(now - t) > tolerance) return false;
  const secrets = typeof options.secret === 'string' ? [options.secret] : options.secret;
  for (const secret of secrets) {
    const expected = Buffer.from(hmacHex(secret, t, body), 'hex');
    for (const signature of signatures) {
      if (timingSafeEqual(expected, Buffer.from(signature, 'hex'))) return true;
    }
  }
  return false;
}
