import type { PushContext } from '@natter/server-core';
import type { Notifier, SendOutcome } from './notifier.js';
import type { ResolvedPushOptions } from './options.js';
import { buildPayload, retryDelay } from './payload.js';
import {
  type JobOutcome,
  type PendingNotification,
  type PushJob,
  type PushStore,
  subscriptionKey,
} from './store/push-store.js';

/** Rows taken per pass; the next pass (one interval later) takes the rest. */
const BATCH = 200;
/** Owed notifications checked, and sends in flight, at once. */
const CONCURRENCY = 16;
const PURGE_EVERY_MS = 60_000;
/**
 * How long a claimed row is hidden from other workers (other nodes sharing a PostgreSQL store); far above a
 * notifier's own timeout, so a row is never sent by two nodes at once, and a crashed node's rows come back.
 */
const CLAIM_LEASE_MS = 60_000;

async function eachLimited<T>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
}

/**
 * One pass over the queue: decides which owed notifications to send (offline, not muted, not yet
 * received by a device, collapse window over), then sends due jobs and records each outcome.
 */
export class PushWorker {
  private lastPurge = 0;

  constructor(
    private readonly store: PushStore,
    private readonly context: PushContext,
    private readonly notifiers: Partial<Record<Notifier['kind'], Notifier>>,
    private readonly options: ResolvedPushOptions,
  ) {}

  async pass(): Promise<void> {
    const { now } = this.options;
    await eachLimited(await this.store.claimDuePending(now(), BATCH, CLAIM_LEASE_MS), CONCURRENCY, (owed) =>
      this.guard(() => this.consider(owed), { userId: owed.userId, channelId: owed.channelId }),
    );
    await eachLimited(await this.store.claimDueJobs(now(), BATCH, CLAIM_LEASE_MS), CONCURRENCY, (job) =>
      this.guard(() => this.deliver(job), { notificationId: job.id, deviceId: job.deviceId }),
    );
    if (now() - this.lastPurge >= PURGE_EVERY_MS) {
      this.lastPurge = now();
      await this.store.purge(now() - this.options.retainFinishedMs, now());
    }
  }

  /** One row's failure (the store closing under it, say) must not stop the others; the row stays owed. */
  private async guard(fn: () => Promise<void>, context: Record<string, string>): Promise<void> {
    try {
      await fn();
    } catch (err) {
      this.context.countError('push_worker_failed');
      this.context.logger.warn({ err, ...context }, 'push worker step failed; it stays queued');
    }
  }

  private async consider(owed: PendingNotification): Promise<void> {
    const { store, context, options } = this;
    const { userId, channelId, latestSeq } = owed;
    const drop = () => store.dropPending(userId, channelId, latestSeq);
    if (await store.isMuted(userId, channelId)) return drop();
    const seen = await context.seenUpTo(channelId, userId);
    // Left the channel, or a device already stored (or the user read) every message: nothing to tell.
    if (seen === undefined || seen >= latestSeq) return drop();
    if (await context.isOnline(userId)) {
      // Online may only mean "within presence's grace period after closing the app": wait and see.
      if (options.now() - owed.firstAt >= options.onlineHoldMs) await drop();
      else await store.postponePending(userId, channelId, options.now() + options.onlineRecheckMs);
      return;
    }
    const includeContent = options.includeContent;
    await store.promote(userId, channelId, options.now(), (pending) =>
      buildPayload(pending, undefined, includeContent),
    );
  }

  private async deliver(job: PushJob): Promise<void> {
    const { store, context, options } = this;
    const finish = (outcome: JobOutcome, attempts = job.attempts, goneKey?: string) =>
      store.finishJob(job, outcome, options.now(), attempts, goneKey);
    const target = await store.subscription(job.userId, job.deviceId);
    if (!target) return void (await finish('unsubscribed'));
    if (await store.isMuted(job.userId, job.channelId)) return void (await finish('muted'));
    // A retry may come long after the first attempt: by then the user may be back in the app.
    if (job.attempts > 0 && (await context.isOnline(job.userId))) return void (await finish('online'));
    const notifier = this.notifiers[target.subscription.kind];
    if (!notifier) {
      context.logger.warn({ kind: target.subscription.kind }, 'no notifier for a subscription kind');
      return void (await finish('failed'));
    }
    let outcome: SendOutcome;
    try {
      outcome = await notifier.send(target, job.payload);
    } catch (err) {
      context.logger.warn({ err, notificationId: job.id }, 'push notifier threw');
      outcome = 'retry';
    }
    const attempts = job.attempts + 1;
    const log = { notificationId: job.id, userId: job.userId, deviceId: job.deviceId, attempts };
    switch (outcome) {
      case 'ok':
        await finish('ok', attempts);
        return;
      case 'gone':
        await finish('gone', attempts, subscriptionKey(target.subscription));
        context.logger.info(log, 'push subscription gone; removed');
        return;
      case 'failed':
        await finish('failed', attempts);
        context.countError('push_failed');
        context.logger.warn(log, 'push notification refused; not retried');
        return;
      case 'retry': {
        if (attempts >= (notifier.maxAttempts ?? 5)) {
          await finish('gave_up', attempts);
          context.countError('push_gave_up');
          context.logger.warn(log, 'push notification given up after its last attempt');
        } else {
          await store.retryJob(
            job,
            attempts,
            options.now() + retryDelay(attempts, options.retryBaseMs, options.retryMaxMs),
          );
        }
        return;
      }
    }
  }
}
