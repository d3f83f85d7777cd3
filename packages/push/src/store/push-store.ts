import type { PushSubscriptionInput } from '@natter/server-core';
import type { PushPayload, StoredSubscription } from '../notifier.js';

/** A message that may be owed a notification: one recipient's delivery. */
export interface OwedMessage {
  userId: string;
  channelId: string;
  seq: number;
  messageId: string;
  senderId: string;
  /** Stored only when the app opted into content; null otherwise. */
  text: string | null;
}

/** The owed notification of one (user, channel): the messages since the last one, collapsed. */
export interface PendingNotification {
  userId: string;
  channelId: string;
  count: number;
  latestSeq: number;
  latestMessageId: string;
  latestSenderId: string;
  latestText: string | null;
  firstAt: number;
  dueAt: number;
}

/** One notification to one device. */
export interface PushJob {
  id: string;
  deviceId: string;
  userId: string;
  channelId: string;
  payload: PushPayload;
  /** Attempts made so far. */
  attempts: number;
  dueAt: number;
}

/** How a job ended: a send outcome, or why it was dropped before sending. */
export type JobOutcome = 'ok' | 'gone' | 'failed' | 'gave_up' | 'unsubscribed' | 'muted' | 'online';

/** What {@link PushStore.promote} did with an owed notification. */
export type PromoteResult =
  | { kind: 'queued'; jobs: number }
  | { kind: 'no_subscriptions' }
  | { kind: 'collapsed'; until: number }
  | { kind: 'none' };

/** What the gateway tells its store when it opens it. */
export interface PushStoreSettings {
  /** At most one notification per (user, channel) per this many ms. */
  collapseMs: number;
}

/**
 * The durable side of push, as a port: subscriptions, mutes, owed notifications (collapsed per user and
 * channel) and the send queue. The SQLite adapter (one process) is the default; the PostgreSQL adapter
 * (`@natter/push/postgres`) lets every chat node of a cluster share one queue.
 *
 * Work is **claimed**: `claimDuePending` and `claimDueJobs` hand each due row to one caller and hide it
 * from every other caller (on any node) for `leaseMs`, unless the caller settles it first (drop,
 * postpone, promote, finish, retry). A node that crashes holding claims loses nothing: the rows are due
 * again when the lease ends (at once for the SQLite store, whose one process releases them on open). Each method is atomic. `@natter/push`'s store tests hold every adapter to
 * this contract.
 */
export interface PushStore {
  /** Adapter name, e.g. `sqlite`. */
  readonly name: string;
  /**
   * Opens (creating and migrating when needed), with the gateway's collapse window: at most one notification
   * per (user, channel) per `collapseMs`. @throws NatterError STORE_VERSION_UNSUPPORTED for a newer schema.
   */
  open(settings: PushStoreSettings): Promise<void>;
  close(): Promise<void>;
  /** Registers (or replaces) a device's subscription, and takes the endpoint/token from any other device. */
  putSubscription(
    userId: string,
    deviceId: string,
    subscription: PushSubscriptionInput,
    now: number,
  ): Promise<void>;
  /** Removes one device's subscription, or all of the user's. */
  removeSubscriptions(userId: string, deviceId?: string): Promise<void>;
  subscription(userId: string, deviceId: string): Promise<StoredSubscription | undefined>;
  subscriptionsOf(userId: string): Promise<StoredSubscription[]>;
  /** Muting also drops what is owed for the channel. */
  setMuted(userId: string, channelId: string, muted: boolean): Promise<void>;
  isMuted(userId: string, channelId: string): Promise<boolean>;
  /**
   * Records owed notifications. A new (user, channel) is due at once, or when its collapse window ends;
   * later messages join it. Users without subscriptions, muted channels and entries already notified (or
   * already owed) are skipped. Returns how many of the messages were recorded.
   */
  enqueue(messages: readonly OwedMessage[], now: number): Promise<number>;
  /** Due owed notifications, oldest first, claimed for `leaseMs`. */
  claimDuePending(now: number, limit: number, leaseMs: number): Promise<PendingNotification[]>;
  postponePending(userId: string, channelId: string, dueAt: number): Promise<void>;
  /**
   * Drops an owed notification, unless a message newer than `upToSeq` joined it meanwhile: then its claim
   * is released, so it is due again at once.
   */
  dropPending(userId: string, channelId: string, upToSeq: number): Promise<void>;
  /**
   * A message was deleted (issue 24): it leaves every owed notification that counts it. A notification
   * that owed nothing else is dropped (nothing is sent); otherwise its count goes down by one, and when the
   * deleted message was its newest, its preview (text or label) goes. The sender's own rows never counted
   * it. Notifications already turned into jobs are not changed.
   */
  dropMessage(channelId: string, seq: number, senderId: string): Promise<void>;
  /**
   * Turns the owed notification of (user, channel) into one job per subscribed device, records the
   * collapse window, and removes it from pending, atomically: it is sent once or stays owed.
   */
  promote(
    userId: string,
    channelId: string,
    now: number,
    build: (pending: PendingNotification) => PushPayload,
  ): Promise<PromoteResult>;
  /**
   * Queues a reaction notification to `userId` (the message's author, with `notifyReactions`): one job per
   * subscribed device, due now, unless the channel is muted for them or a reaction notification of the
   * channel was queued for them within the collapse window (a popular message must not buzz its author
   * for every reaction). Atomic across nodes. Returns the jobs queued.
   */
  queueReaction(userId: string, channelId: string, now: number, build: () => PushPayload): Promise<number>;
  /** Due unsent jobs, oldest first, claimed for `leaseMs`. */
  claimDueJobs(now: number, limit: number, leaseMs: number): Promise<PushJob[]>;
  /**
   * Records how a job ended, and for `gone` removes the subscription it was sent to unless the device
   * registered another endpoint meanwhile (`goneKey` is the endpoint or token it was sent to). False when
   * the job was already finished.
   */
  finishJob(
    job: PushJob,
    outcome: JobOutcome,
    now: number,
    attempts: number,
    goneKey?: string,
  ): Promise<boolean>;
  retryJob(job: PushJob, attempts: number, dueAt: number): Promise<void>;
  /** Deletes finished jobs older than `finishedBefore`, and collapse windows long over. */
  purge(finishedBefore: number, now: number): Promise<void>;
  /** Owed notifications and unfinished jobs, for tests and health checks. */
  counts(): Promise<{ pending: number; jobs: number }>;
}

/** The identity of a subscription: one browser (endpoint) or one app install (token). */
export function subscriptionKey(subscription: PushSubscriptionInput): string {
  return subscription.kind === 'webpush' ? subscription.endpoint : subscription.token;
}

/** Only the known fields, in a fixed order, so nothing a client sent beyond them is stored. */
export function normalizeSubscription(subscription: PushSubscriptionInput): PushSubscriptionInput {
  return subscription.kind === 'webpush'
    ? {
        kind: 'webpush',
        endpoint: subscription.endpoint,
        keys: { p256dh: subscription.keys.p256dh, auth: subscription.keys.auth },
      }
    : {
        kind: 'webhook',
        token: subscription.token,
        ...(subscription.platform === undefined ? {} : { platform: subscription.platform }),
      };
}
