import { createHash, createPublicKey } from 'node:crypto';
import type { Agent } from 'node:https';
import { ErrorCode, NatterError, type PushLogger, type PushSubscriptionInput } from '@natter/server-core';
import webpush from 'web-push';
import {
  type Notifier,
  outcomeOfStatus,
  type PushPayload,
  type SendOutcome,
  type StoredSubscription,
} from './notifier.js';

/** VAPID identification of the application server (RFC 8292). */
export interface VapidKeys {
  /** A `mailto:` or `https:` URL push services can contact about this server. */
  subject: string;
  /** Base64url P-256 public key; browsers subscribe with it (`GET /v1/push/vapid-key`). */
  publicKey: string;
  /** Base64url P-256 private key. Keep it secret and stable: new keys invalidate every subscription. */
  privateKey: string;
}

/** Options of the Web Push notifier. */
export interface WebPushOptions {
  vapid: VapidKeys;
  /** How long the push service keeps an undelivered notification, seconds. @default 86400 */
  ttlSeconds?: number;
  /** Web Push `Urgency`. @default 'normal' */
  urgency?: 'very-low' | 'low' | 'normal' | 'high';
  /** Socket idle timeout of one attempt, ms. @default 10000 */
  timeoutMs?: number;
  /** Attempts before a notification is given up. @default 5 */
  maxAttempts?: number;
  /**
   * Which endpoints devices may register. Every send is a server-side POST to the endpoint, so an open
   * list would let any user aim the server at internal hosts (SSRF).
   * @default the push services of Chrome/Android (FCM), Firefox (Mozilla), Edge (WNS) and Safari (Apple)
   */
  allowEndpoint?: (endpoint: URL) => boolean;
  /** HTTPS agent for the push service requests (connection pooling, a custom CA in tests). */
  agent?: Agent;
}

const KNOWN_PUSH_SERVICES = [
  'fcm.googleapis.com',
  'android.googleapis.com',
  'updates.push.services.mozilla.com',
  '.push.services.mozilla.com',
  '.notify.windows.com',
  '.push.apple.com',
];

/** The default `allowEndpoint`: https on a known browser push service. */
export function isKnownPushService(endpoint: URL): boolean {
  if (endpoint.protocol !== 'https:') return false;
  const host = endpoint.hostname.toLowerCase();
  return KNOWN_PUSH_SERVICES.some((known) => (known.startsWith('.') ? host.endsWith(known) : host === known));
}

/** A Web Push `Topic` per channel: push services replace an undelivered notification with a newer one. */
function topicOf(channelId: string): string {
  return createHash('sha256').update(channelId).digest('base64url').slice(0, 32);
}

/**
 * Web Push (RFC 8030) with VAPID (RFC 8292) and aes128gcm payload encryption (RFC 8291), through the
 * `web-push` library. 404 and 410 mean the subscription is gone; 408, 425, 429 and 5xx are retried.
 */
export class WebPushNotifier implements Notifier {
  readonly kind = 'webpush';
  readonly maxAttempts: number;
  private readonly allowEndpoint: (endpoint: URL) => boolean;

  constructor(
    private readonly options: WebPushOptions,
    private readonly logger?: PushLogger,
  ) {
    const { subject, publicKey, privateKey } = options.vapid;
    // Validates subject and key formats now rather than at the first send.
    webpush.getVapidHeaders('https://push.example', subject, publicKey, privateKey, 'aes128gcm');
    this.maxAttempts = options.maxAttempts ?? 5;
    this.allowEndpoint = options.allowEndpoint ?? isKnownPushService;
  }

  get publicKey(): string {
    return this.options.vapid.publicKey;
  }

  /** Refuses endpoints outside `allowEndpoint` and keys that could never be encrypted to. */
  validate(subscription: PushSubscriptionInput): void {
    if (subscription.kind !== 'webpush')
      throw new NatterError(ErrorCode.BAD_REQUEST, 'not a web push subscription');
    let url: URL;
    try {
      url = new URL(subscription.endpoint);
    } catch {
      throw new NatterError(ErrorCode.BAD_REQUEST, 'push endpoint is not a URL');
    }
    if (!this.allowEndpoint(url))
      throw new NatterError(ErrorCode.BAD_REQUEST, 'push endpoint is not allowed');
    const p256dh = Buffer.from(subscription.keys.p256dh, 'base64url');
    const auth = Buffer.from(subscription.keys.auth, 'base64url');
    if (auth.length < 16) throw new NatterError(ErrorCode.BAD_REQUEST, 'push auth secret must be 16 bytes');
    try {
      if (p256dh.length !== 65 || p256dh[0] !== 4) throw new Error('not an uncompressed point');
      createPublicKey({
        key: {
          kty: 'EC',
          crv: 'P-256',
          x: p256dh.subarray(1, 33).toString('base64url'),
          y: p256dh.subarray(33).toString('base64url'),
        },
        format: 'jwk',
      });
    } catch {
      throw new NatterError(ErrorCode.BAD_REQUEST, 'push p256dh key is not a P-256 public key');
    }
  }

  async send(target: StoredSubscription, payload: PushPayload): Promise<SendOutcome> {
    const { subscription } = target;
    if (subscription.kind !== 'webpush') return 'failed';
    try {
      await webpush.sendNotification(
        { endpoint: subscription.endpoint, keys: subscription.keys },
        JSON.stringify(payload),
        {
          vapidDetails: this.options.vapid,
          contentEncoding: 'aes128gcm',
          TTL: this.options.ttlSeconds ?? 86_400,
          urgency: this.options.urgency ?? 'normal',
          topic: topicOf(payload.channelId),
          timeout: this.options.timeoutMs ?? 10_000,
          ...(this.options.agent ? { agent: this.options.agent } : {}),
        },
      );
      return 'ok';
    } catch (err) {
      if (hasStatus(err)) {
        const outcome = outcomeOfStatus(err.statusCode, [404, 410]);
        if (outcome === 'failed') {
          this.logger?.warn(
            {
              status: err.statusCode,
              body: String(err.body ?? '').slice(0, 200),
              notificationId: payload.id,
            },
            'push service refused a notification',
          );
        }
        return outcome;
      }
      this.logger?.debug({ err, notificationId: payload.id }, 'web push attempt failed');
      return 'retry';
    }
  }
}

/** web-push rejects with a `WebPushError` carrying the push service's status; network errors carry none. */
function hasStatus(err: unknown): err is { statusCode: number; body?: unknown } {
  return (
    typeof err === 'object' &&
    err !== null &&
    typeof (err as { statusCode?: unknown }).statusCode === 'number'
  );
}
