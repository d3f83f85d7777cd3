import type { PushLogger } from '@natter/server-core';
import {
  type Notifier,
  outcomeOfStatus,
  type PushPayload,
  type SendOutcome,
  type StoredSubscription,
} from './notifier.js';
import { SIGNATURE_HEADER, signWebhook } from './sign.js';

/** Options of the webhook notifier: an HTTP POST of a signed JSON body to the app's endpoint. */
export interface WebhookOptions {
  /** The app's endpoint (https in production). */
  url: string;
  /** Shared secret for the HMAC-SHA256 signature; at least 32 characters. */
  secret: string;
  /** Time allowed for one attempt (connect, send, answer), ms. @default 10000 */
  timeoutMs?: number;
  /** Attempts before a notification is given up (logged, `natter_errors_total{code="push_gave_up"}`). @default 5 */
  maxAttempts?: number;
}

/** The JSON body natter POSTs to the webhook. */
export interface WebhookBody {
  /** The notification id (also `notification.id`): stable across retries, so the app can dedupe. */
  id: string;
  userId: string;
  deviceId: string;
  /** The device token the app registered (`POST /v1/push/subscriptions {kind:'webhook', token}`). */
  token: string;
  platform: string | null;
  notification: PushPayload;
}

/**
 * Delivers to an app's webhook, which forwards to APNs, FCM or anything else. 2xx is success; 410 means
 * the device token is gone (the subscription is removed); 408, 425, 429 and 5xx are retried; other
 * statuses fail the notification. 404 is deliberately not "gone": a mistyped URL must not erase every
 * subscription.
 */
export class WebhookNotifier implements Notifier {
  readonly kind = 'webhook';
  readonly maxAttempts: number;
  private readonly timeoutMs: number;

  constructor(
    private readonly options: WebhookOptions,
    private readonly logger?: PushLogger,
    private readonly now: () => number = Date.now,
  ) {
    if (!options.secret || options.secret.length < 32) {
      throw new RangeError('webhook.secret must be at least 32 characters');
    }
    new URL(options.url); // throws on a malformed URL, at startup rather than at the first send
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.maxAttempts = options.maxAttempts ?? 5;
  }

  async send(target: StoredSubscription, payload: PushPayload): Promise<SendOutcome> {
    const { subscription } = target;
    if (subscription.kind !== 'webhook') return 'failed';
    const body: WebhookBody = {
      id: payload.id,
      userId: target.userId,
      deviceId: target.deviceId,
      token: subscription.token,
      platform: subscription.platform ?? null,
      notification: payload,
    };
    const raw = JSON.stringify(body);
    try {
      const response = await fetch(this.options.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'natter-push',
          [SIGNATURE_HEADER]: signWebhook(raw, this.options.secret, this.now()),
        },
        body: raw,
        // A redirect would re-send the body somewhere the app did not configure.
        redirect: 'manual',
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      await response.body?.cancel();
      return outcomeOfStatus(response.status, [410]);
    } catch (err) {
      this.logger?.debug({ err, notificationId: payload.id }, 'push webhook attempt failed');
      return 'retry';
    }
  }
}
