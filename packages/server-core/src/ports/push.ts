import type { PushSubscriptionInput } from '@natter/protocol';
import type { Delivery } from './delivery.js';

export type { PushSubscriptionInput };

/** The few log calls a push gateway makes (pino's logger satisfies it). */
export interface PushLogger {
  debug(details: object, message: string): void;
  info(details: object, message: string): void;
  warn(details: object, message: string): void;
  error(details: object, message: string): void;
}

/** What a push gateway can ask of the running server: exactly what deciding and reporting a push needs. */
export interface PushContext {
  /** True when any device of the user is live (presence): such users get no push. */
  isOnline(userId: string): Promise<boolean>;
  /**
   * The highest seq of a channel a device of the user stored or the user read (undefined when the user is
   * not a member): a notification is owed only for messages past it.
   */
  seenUpTo(channelId: string, userId: string): Promise<number | undefined>;
  /** The sender of a message, undefined when it does not exist or was deleted (who a reaction notifies). */
  messageAuthor(channelId: string, seq: number): Promise<string | undefined>;
  logger: PushLogger;
  /** Counts an error by code in the node's metrics (`natter_errors_total{code}`). */
  countError(code: string): void;
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
