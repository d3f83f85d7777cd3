import type { Logger } from '../observability/logger.js';
import type { NatterMetrics } from '../observability/metrics.js';
import type { Delivery } from '../ports/delivery.js';
import type { ChatStore } from './storage.js';

/** A device's push subscription, as the device registered it. */
export type PushSubscriptionInput =
  | {
      kind: 'webpush';
      /** The browser's PushSubscription: endpoint URL and its keys (base64url). */
      endpoint: string;
      keys: { p256dh: string; auth: string };
    }
  | {
      kind: 'webhook';
      /** An app-defined device token (APNs/FCM token, say) the app's webhook forwards to. */
      token: string;
      platform?: string;
    };

/** What a push gateway can ask of the running server. */
export interface PushContext {
  /** True when any device of the user is live (presence): such users get no push. */
  isOnline(userId: string): Promise<boolean>;
  chat: ChatStore;
  logger: Logger;
  metrics: NatterMetrics;
}

/**
 * The notification side of the design: told about every committed delivery, it decides who is offline and
 * notifies them. It must never block or fail message delivery: `onDeliveries` returns at once.
 * `@natter/push` implements it (Web Push, webhooks, a durable queue).
 */
export interface PushGateway {
  /** Called after every commit with the entries for each recipient. Must not throw or block. */
  onDeliveries(deliveries: readonly Delivery[]): void;
  registerSubscription(userId: string, deviceId: string, subscription: PushSubscriptionInput): Promise<void>;
  /** Removes one device's subscription (or all of the user's when `deviceId` is undefined). */
  removeSubscriptions(userId: string, deviceId?: string): Promise<void>;
  /** Mutes or unmutes a channel's notifications for one user. */
  setMuted(userId: string, channelId: string, muted: boolean): Promise<void>;
  /** The VAPID public key browsers subscribe with, when Web Push is configured. */
  vapidPublicKey(): string | undefined;
  /** Starts background work (the queue); called by the server's `start()`. */
  start(): Promise<void>;
  /** Stops background work, keeping what is queued for the next start. */
  stop(): Promise<void>;
}

/** Builds the gateway once the server's parts exist. */
export type PushGatewayFactory = (context: PushContext) => PushGateway;
