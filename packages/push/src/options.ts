import type { Notifier } from './notifier.js';
import type { PushStore } from './store/push-store.js';
import { createSqlitePushStore } from './store/sqlite.js';
import type { WebPushOptions } from './web-push-notifier.js';
import type { WebhookOptions } from './webhook-notifier.js';

/** Options of {@link createPushGateway}. */
export interface PushGatewayOptions {
  /**
   * SQLite file (created with its directory) holding subscriptions, mutes and the notification queue, for
   * one process: keep it on the same disk as the chat store. Give `store` instead when several chat nodes
   * share one queue. One of the two is required.
   */
  dataPath?: string;
  /**
   * Where subscriptions, mutes and the queue live, instead of `dataPath`: a {@link PushStore} adapter, e.g.
   * `createPostgresPushStore(...)` from `@natter/push/postgres` so every node of a cluster shares one
   * queue (each due row is claimed by one node). The gateway opens it on `start()` and closes it on `stop()`.
   */
  store?: PushStore;
  /** Web Push for browsers (VAPID keys). Without it, `webpush` subscriptions are refused. */
  webPush?: WebPushOptions;
  /** A signed HTTP POST to the app's endpoint, which forwards to APNs/FCM. Without it, `webhook` subscriptions are refused. */
  webhook?: WebhookOptions;
  /** Notifiers by subscription kind, replacing the built-in ones: a `MemoryNotifier` in tests, or your own. */
  notifiers?: Partial<Record<Notifier['kind'], Notifier>>;
  /** At most one notification per channel per user per this many ms; later messages are counted into the next. @default 30000 */
  collapseMs?: number;
  /**
   * Put the newest message's sender id and text (first 500 characters) in the payload. Off by default:
   * push services and webhooks then see only ids and counts, and the device syncs to read the message.
   * @default false
   */
  includeContent?: boolean;
  /**
   * Notify the author of a message when someone else reacts to it (issue 24), at most once per channel per
   * `collapseMs`, unless the author is online or muted the channel. The payload (`natter.reaction`) names
   * who reacted and the emoji only with `includeContent`. Off by default: reactions send no push.
   * @default false
   */
  notifyReactions?: boolean;
  /** How often the queue is worked through, ms. @default 1000 */
  workerIntervalMs?: number;
  /**
   * How long an owed notification waits while its user still counts as online, re-checking, before it is
   * dropped as seen. Presence keeps a user online for `presence.graceMs` after the last device went away,
   * so keep this above that grace period: a user who just closed the app is then still notified.
   * @default 60000
   */
  onlineHoldMs?: number;
  /** First retry delay after a failed attempt, ms; doubles per attempt (with jitter) up to 5 minutes. @default 1000 */
  retryBaseMs?: number;
  /** @default Date.now */
  now?: () => number;
}

/** {@link PushGatewayOptions} with defaults applied. */
export interface ResolvedPushOptions {
  /** The store, made from `dataPath` when none was given. */
  store: PushStore;
  collapseMs: number;
  includeContent: boolean;
  notifyReactions: boolean;
  workerIntervalMs: number;
  onlineHoldMs: number;
  retryBaseMs: number;
  retryMaxMs: number;
  /** Re-check interval for users still online. */
  onlineRecheckMs: number;
  /** How long finished jobs are kept (they are the record that they were sent). */
  retainFinishedMs: number;
  now: () => number;
}

function nonNegative(name: string, value: number): number {
  if (!Number.isFinite(value) || value < 0) throw new RangeError(`${name} must be a non-negative number`);
  return value;
}

/** Applies defaults and checks values. */
export function resolvePushOptions(options: PushGatewayOptions): ResolvedPushOptions {
  if (!options.store && !options.dataPath)
    throw new TypeError('createPushGateway needs `dataPath` (a SQLite file) or `store` (a PushStore)');
  const collapseMs = nonNegative('collapseMs', options.collapseMs ?? 30_000);
  const workerIntervalMs = nonNegative('workerIntervalMs', options.workerIntervalMs ?? 1_000);
  if (workerIntervalMs < 10) throw new RangeError('workerIntervalMs must be at least 10');
  const onlineHoldMs = nonNegative('onlineHoldMs', options.onlineHoldMs ?? 60_000);
  return {
    store: options.store ?? createSqlitePushStore({ path: options.dataPath! }),
    collapseMs,
    includeContent: options.includeContent ?? false,
    notifyReactions: options.notifyReactions ?? false,
    workerIntervalMs,
    onlineHoldMs,
    retryBaseMs: nonNegative('retryBaseMs', options.retryBaseMs ?? 1_000),
    retryMaxMs: 5 * 60_000,
    onlineRecheckMs: Math.max(workerIntervalMs, Math.min(2_000, onlineHoldMs / 4)),
    retainFinishedMs: 3_600_000,
    now: options.now ?? Date.now,
  };
}
