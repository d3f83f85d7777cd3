import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { PushSubscriptionInput } from '@natter/server-core';
import Database from 'better-sqlite3';
import type { PushPayload, SendOutcome, StoredSubscription } from './notifier.js';
import {
  type JobRow,
  type PendingRow,
  prepareStatements,
  type Statements,
  type SubscriptionRow,
  toJob,
  toPending,
  toSubscription,
} from './queue-statements.js';
import { migrate } from './schema.js';

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
export type JobOutcome = Exclude<SendOutcome, 'retry'> | 'gave_up' | 'unsubscribed' | 'muted' | 'online';

/** What {@link PushStore.promote} did with an owed notification. */
export type PromoteResult =
  | { kind: 'queued'; jobs: number }
  | { kind: 'no_subscriptions' }
  | { kind: 'collapsed'; until: number }
  | { kind: 'none' };

/** The identity of a subscription: one browser (endpoint) or one app install (token). */
export function subscriptionKey(subscription: PushSubscriptionInput): string {
  return subscription.kind === 'webpush' ? subscription.endpoint : subscription.token;
}

/** Only the known fields, in a fixed order, so nothing a client sent beyond them is stored. */
function normalize(subscription: PushSubscriptionInput): PushSubscriptionInput {
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

/**
 * The durable side of push: subscriptions, mutes, owed notifications and the send queue, in one SQLite
 * file (WAL). Every method is synchronous (better-sqlite3) and each is one transaction, so what the
 * gateway records is on disk before it returns, and a process crash loses nothing that was recorded.
 */
export class PushStore {
  private readonly statements: Statements;

  private constructor(
    private readonly db: Database.Database,
    private readonly collapseMs: number,
  ) {
    this.statements = prepareStatements(db);
  }

  /** Opens (creating and migrating when needed) the store at `path`. */
  static open(path: string, options: { collapseMs: number }): PushStore {
    mkdirSync(dirname(path), { recursive: true });
    const db = new Database(path);
    try {
      db.pragma('busy_timeout = 5000');
      const mode = db.pragma('journal_mode = WAL', { simple: true });
      if (mode !== 'wal') throw new Error(`could not switch ${path} to WAL mode (got ${String(mode)})`);
      // NORMAL in WAL survives a process crash; only a power loss can drop the newest commits.
      db.pragma('synchronous = NORMAL');
      migrate(db);
      return new PushStore(db, options.collapseMs);
    } catch (error) {
      db.close();
      throw error;
    }
  }

  close(): void {
    this.db.close();
  }

  get isOpen(): boolean {
    return this.db.open;
  }

  /** Registers (or replaces) a device's subscription, and takes the endpoint/token from any other device. */
  putSubscription(userId: string, deviceId: string, subscription: PushSubscriptionInput, now: number): void {
    const clean = normalize(subscription);
    const key = subscriptionKey(clean);
    this.db.transaction(() => {
      this.statements.removeByKey.run(clean.kind, key, userId, deviceId);
      this.statements.putSubscription.run(userId, deviceId, clean.kind, key, JSON.stringify(clean), now);
    })();
  }

  removeSubscriptions(userId: string, deviceId?: string): void {
    if (deviceId === undefined) this.statements.removeUser.run(userId);
    else this.statements.removeDevice.run(userId, deviceId);
  }

  subscription(userId: string, deviceId: string): StoredSubscription | undefined {
    const row = this.statements.subscription.get(userId, deviceId) as SubscriptionRow | undefined;
    return row && toSubscription(row);
  }

  subscriptionsOf(userId: string): StoredSubscription[] {
    return (this.statements.subscriptionsOf.all(userId) as SubscriptionRow[]).map(toSubscription);
  }

  /** Muting also drops what is owed for the channel. */
  setMuted(userId: string, channelId: string, muted: boolean): void {
    this.db.transaction(() => {
      if (muted) {
        this.statements.mute.run(userId, channelId);
        this.statements.dropPendingOf.run(userId, channelId);
      } else {
        this.statements.unmute.run(userId, channelId);
      }
    })();
  }

  isMuted(userId: string, channelId: string): boolean {
    return this.statements.isMuted.get(userId, channelId) !== undefined;
  }

  /**
   * Records owed notifications, in one transaction. A new (user, channel) is due at once, or when its
   * collapse window ends; later messages join it. Users without subscriptions, muted channels and
   * entries already notified are skipped.
   * Returns how many were recorded.
   */
  enqueue(messages: readonly OwedMessage[], now: number): number {
    return this.db.transaction(() => {
      let recorded = 0;
      for (const m of messages) {
        // Users with no device registered (most, in many apps) cost nothing further.
        if (this.statements.hasSubscription.get(m.userId) === undefined) continue;
        if (this.isMuted(m.userId, m.channelId)) continue;
        const last = this.statements.collapse.get(m.userId, m.channelId) as
          | { last_sent_at: number; last_seq: number }
          | undefined;
        if (last && m.seq <= last.last_seq) continue;
        const dueAt = last ? Math.max(now, last.last_sent_at + this.collapseMs) : now;
        this.statements.enqueue.run({ ...m, now, dueAt });
        recorded++;
      }
      return recorded;
    })();
  }

  duePending(now: number, limit: number): PendingNotification[] {
    return (this.statements.duePending.all(now, limit) as PendingRow[]).map(toPending);
  }

  postponePending(userId: string, channelId: string, dueAt: number): void {
    this.statements.postpone.run(dueAt, userId, channelId);
  }

  /** Drops an owed notification, unless a message newer than `upToSeq` joined it meanwhile. */
  dropPending(userId: string, channelId: string, upToSeq: number): void {
    this.statements.dropPending.run(userId, channelId, upToSeq);
  }

  /**
   * Turns the owed notification of (user, channel) into one job per subscribed device, records the
   * collapse window, and removes it from pending: one transaction, so it is sent once or stays owed.
   */
  promote(
    userId: string,
    channelId: string,
    now: number,
    build: (pending: PendingNotification) => PushPayload,
  ): PromoteResult {
    return this.db.transaction((): PromoteResult => {
      const row = this.statements.pending.get(userId, channelId) as PendingRow | undefined;
      if (!row) return { kind: 'none' };
      const pending = toPending(row);
      const last = this.statements.collapse.get(userId, channelId) as { last_sent_at: number } | undefined;
      if (last && now < last.last_sent_at + this.collapseMs) {
        const until = last.last_sent_at + this.collapseMs;
        this.statements.postpone.run(until, userId, channelId);
        return { kind: 'collapsed', until };
      }
      this.statements.dropPendingOf.run(userId, channelId);
      const devices = this.subscriptionsOf(userId);
      if (devices.length === 0) return { kind: 'no_subscriptions' };
      const payload = build(pending);
      const raw = JSON.stringify(payload);
      for (const device of devices) {
        this.statements.insertJob.run(payload.id, device.deviceId, userId, channelId, raw, now, now);
      }
      this.statements.setCollapse.run(userId, channelId, now, pending.latestSeq);
      return { kind: 'queued', jobs: devices.length };
    })();
  }

  dueJobs(now: number, limit: number): PushJob[] {
    return (this.statements.dueJobs.all(now, limit) as JobRow[]).map(toJob);
  }

  /**
   * Records how a job ended (with `sent_at`), and for `gone` removes the subscription it was sent to,
   * unless the device registered another endpoint meanwhile. Returns false when the job was already
   * finished.
   */
  finishJob(job: PushJob, outcome: JobOutcome, now: number, attempts: number, goneKey?: string): boolean {
    return this.db.transaction(() => {
      const changed = this.statements.finishJob.run(now, outcome, attempts, job.id, job.deviceId).changes > 0;
      if (changed && outcome === 'gone' && goneKey !== undefined) {
        this.statements.removeIfUnchanged.run(job.userId, job.deviceId, goneKey);
      }
      return changed;
    })();
  }

  retryJob(job: PushJob, attempts: number, dueAt: number): void {
    this.statements.retryJob.run(attempts, dueAt, job.id, job.deviceId);
  }

  /** Deletes finished jobs older than `finishedBefore`, and collapse windows long over. */
  purge(finishedBefore: number, now: number): void {
    this.statements.purgeJobs.run(finishedBefore);
    this.statements.purgeCollapse.run(now - this.collapseMs - 24 * 3_600_000);
  }

  /** Owed notifications and unfinished jobs, for tests and health checks. */
  counts(): { pending: number; jobs: number } {
    const n = (row: unknown) => (row as { n: number }).n;
    return { pending: n(this.statements.countPending.get()), jobs: n(this.statements.countJobs.get()) };
  }
}
