import {
  type Delivery,
  ErrorCode,
  NatterError,
  type PushContext,
  type PushGateway,
  type PushSubscriptionInput,
} from '@natter/server-core';
import type { Notifier, StoredSubscription } from './notifier.js';
import { type PushGatewayOptions, resolvePushOptions } from './options.js';
import { buildReactionPayload, contentOf, labelOf, truncateContent } from './payload.js';
import type { OwedMessage, PushStore } from './store/push-store.js';
import { WebPushNotifier } from './web-push-notifier.js';
import { WebhookNotifier } from './webhook-notifier.js';
import { PushWorker } from './worker.js';

/** How long `stop()` waits for sends in flight before closing the store (they stay queued). */
const STOP_WAIT_MS = 5_000;

/** The gateway `createPushGateway` builds: the server-core port plus a few operational extras. */
export interface NatterPushGateway extends PushGateway {
  /** The user's registered devices (for a "notifications on these devices" settings screen). */
  listSubscriptions(userId: string): Promise<StoredSubscription[]>;
  /** Runs one pass over the queue now (after the one in progress, if any). Handy in tests. */
  flush(): Promise<void>;
  /** Owed notifications and unsent jobs. */
  stats(): Promise<{ pending: number; jobs: number }>;
}

/**
 * Push notifications for users with no online device, as a `push` factory for `createNatterServer`:
 * ```ts
 * createNatterServer({ storage, tokens, push: createPushGateway({ dataPath: './data/push.db', webPush: { vapid } }) });
 * ```
 * Every committed text message owes its offline recipients a notification; owed notifications are
 * recorded in the push store from `onDeliveries` (the SQLite store writes them before it returns, so they
 * are durable from the commit on; a shared PostgreSQL store right after it) and sent by a background
 * worker: collapsed per channel, skipped for muted channels and online users, retried with backoff, and
 * sent once even across a crash. See docs/push.md.
 */
export function createPushGateway(options: PushGatewayOptions): (context: PushContext) => NatterPushGateway {
  const resolved = resolvePushOptions(options);
  return (context) => {
    const { logger } = context;
    const notifiers: Partial<Record<Notifier['kind'], Notifier>> = {};
    if (options.webPush) notifiers.webpush = new WebPushNotifier(options.webPush, logger);
    if (options.webhook) notifiers.webhook = new WebhookNotifier(options.webhook, logger, resolved.now);
    Object.assign(notifiers, options.notifiers);

    /** Set while the gateway runs (between `start()` and `stop()`). */
    let store: PushStore | undefined;
    let worker: PushWorker | undefined;
    let timer: ReturnType<typeof setInterval> | undefined;
    let running: Promise<void> = Promise.resolve();
    let warnedNotRunning = false;

    const open = (): PushStore => {
      if (!store) throw new NatterError(ErrorCode.UNAVAILABLE, 'push is not running');
      return store;
    };

    /** Passes never overlap: each starts after the previous one ended. */
    const pass = (): Promise<void> => {
      running = running.then(async () => {
        try {
          await worker?.pass();
        } catch (err) {
          context.countError('push_worker_failed');
          logger.warn({ err }, 'push worker pass failed');
        }
      });
      return running;
    };

    /** Push is a hint: a failure to record one must never reach the commit that called `onDeliveries`. */
    const enqueueFailed = (err: unknown) => {
      context.countError('push_enqueue_failed');
      logger.error({ err }, 'push enqueue failed');
    };

    let passQueued = false;
    const tick = () => {
      // An interval firing while a slow pass (a hanging push service) runs must not pile passes up.
      if (passQueued) return;
      passQueued = true;
      void pass().finally(() => {
        passQueued = false;
      });
    };

    /**
     * A reaction by someone else notifies the message's author (`notifyReactions`) when they have no device
     * online (an online author sees it live) and did not mute the channel; collapsed per channel.
     */
    const notifyAuthor = async (
      into: PushStore,
      reaction: { channelId: string; seq: number; userId: string; emoji: string },
    ) => {
      const author = await context.messageAuthor(reaction.channelId, reaction.seq);
      if (author === undefined || author === reaction.userId) return;
      if (await context.isOnline(author)) return;
      await into.queueReaction(author, reaction.channelId, resolved.now(), () =>
        buildReactionPayload(reaction, resolved.includeContent),
      );
    };

    /**
     * Store writes from `onDeliveries` run in commit order, so a delete never overtakes the enqueue of its
     * message (the PostgreSQL store would otherwise run them on two connections at once). The first write
     * starts at once: the SQLite store's enqueue is then on disk before `onDeliveries` returns.
     */
    let recording: Promise<void> | undefined;
    const record = (into: PushStore, write: (store: PushStore) => Promise<unknown>) => {
      const run = () =>
        write(into).then(
          () => undefined,
          (err: unknown) => enqueueFailed(err),
        );
      const next = recording ? recording.then(run) : run();
      recording = next;
      void next.then(() => {
        if (recording === next) recording = undefined;
      });
    };

    return {
      onDeliveries(deliveries: readonly Delivery[]): void {
        try {
          if (!store) {
            if (!warnedNotRunning) logger.warn({}, 'push gateway not started: notifications skipped');
            warnedNotRunning = true;
            context.countError('push_not_running');
            return;
          }
          const owed: OwedMessage[] = [];
          /** Deleted messages, once each (every member gets an entry for one). */
          const deleted = new Map<string, { channelId: string; seq: number; senderId: string }>();
          /** Reactions added, once each, when their authors are to be told (`notifyReactions`). */
          const reactions = new Map<
            string,
            { channelId: string; seq: number; userId: string; emoji: string }
          >();
          for (const { userId, entry } of deliveries) {
            if (entry.kind === 'reaction') {
              if (resolved.notifyReactions && entry.added) {
                const { channelId, seq, emoji } = entry;
                reactions.set(`${channelId}\u0000${seq}\u0000${entry.userId}\u0000${emoji}`, {
                  channelId,
                  seq,
                  userId: entry.userId,
                  emoji,
                });
              }
              continue;
            }
            if (entry.kind === 'deleted') {
              const { channelId, seq, senderId } = entry.message;
              deleted.set(`${channelId}\u0000${seq}`, { channelId, seq, senderId });
              continue;
            }
            // Only new messages notify: edits and reactions never push (issue 24).
            if (entry.kind !== 'message') continue;
            const message = entry.message;
            // An encrypted channel's message notifies too, but the server has no content for it: the
            // notification carries ids and counts only, whatever `includeContent` says ("New message").
            const encrypted = message.kind === 'system' && message.system?.action === 'mls_message';
            if ((message.kind !== 'text' && !encrypted) || message.senderId === userId) continue;
            owed.push({
              userId,
              channelId: message.channelId,
              seq: message.seq,
              messageId: message.id,
              senderId: message.senderId,
              text: encrypted
                ? null
                : resolved.includeContent
                  ? truncateContent(contentOf(message))
                  : labelOf(message),
            });
          }
          if (owed.length > 0) record(store, (s) => s.enqueue(owed, resolved.now()));
          // A deleted message still collapsed in the queue leaves it (issue 24): the delete's entries reach
          // this gateway on the node that committed it, and a cluster's nodes share one PostgreSQL store.
          for (const d of deleted.values())
            record(store, (s) => s.dropMessage(d.channelId, d.seq, d.senderId));
          for (const r of reactions.values()) record(store, (s) => notifyAuthor(s, r));
        } catch (err) {
          enqueueFailed(err);
        }
      },

      async registerSubscription(userId: string, deviceId: string, subscription: PushSubscriptionInput) {
        const notifier = notifiers[subscription.kind];
        if (!notifier)
          throw new NatterError(ErrorCode.BAD_REQUEST, `${subscription.kind} push is not configured`);
        notifier.validate?.(subscription);
        await open().putSubscription(userId, deviceId, subscription, resolved.now());
      },

      async removeSubscriptions(userId: string, deviceId?: string) {
        await open().removeSubscriptions(userId, deviceId);
      },

      async setMuted(userId: string, channelId: string, muted: boolean) {
        await open().setMuted(userId, channelId, muted);
      },

      vapidPublicKey: () => options.webPush?.vapid.publicKey,

      async listSubscriptions(userId: string) {
        return open().subscriptionsOf(userId);
      },

      flush: pass,

      stats: () => open().counts(),

      async start() {
        if (store) return;
        await resolved.store.open({ collapseMs: resolved.collapseMs });
        store = resolved.store;
        worker = new PushWorker(store, context, notifiers, resolved);
        warnedNotRunning = false;
        timer = setInterval(tick, resolved.workerIntervalMs);
        timer.unref?.();
        tick(); // what was owed before a restart goes out now, not one interval later
      },

      async stop() {
        if (timer) clearInterval(timer);
        timer = undefined;
        const closing = store;
        store = undefined;
        let waited: ReturnType<typeof setTimeout> | undefined;
        await Promise.race([
          running,
          new Promise<void>((resolve) => {
            waited = setTimeout(resolve, STOP_WAIT_MS);
          }),
        ]);
        clearTimeout(waited);
        worker = undefined;
        await closing?.close();
      },
    };
  };
}
