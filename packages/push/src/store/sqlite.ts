import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { ErrorCode, NatterError, type PushSubscriptionInput } from '@natter/server-core';
import Database from 'better-sqlite3';
import type { PushPayload, StoredSubscription } from '../notifier.js';
import {
  type JobOutcome,
  normalizeSubscription,
  type OwedMessage,
  type PendingNotification,
  type PromoteResult,
  type PushJob,
  type PushStore,
  type PushStoreSettings,
  subscriptionKey,
} from './push-store.js';
import { migrate } from './sqlite-schema.js';
import {
  type JobRow,
  type PendingRow,
  prepareStatements,
  type Statements,
  type SubscriptionRow,
  toJob,
  toPending,
  toSubscription,
} from './sqlite-statements.js';

/** Options of {@link createSqlitePushStore}. */
export interface SqlitePushStoreOptions {
  /** SQLite file, created with its directory. One process owns it. */
  path: string;
}

/**
 * The SQLite {@link PushStore} (WAL): one file, one process. Every method is one synchronous
 * better-sqlite3 transaction, so what the gateway records is on disk before its promise settles and a
 * process crash loses nothing that was recorded. The default store of `createPushGateway({ dataPath })`.
 */
export function createSqlitePushStore(options: SqlitePushStoreOptions): PushStore {
  return new SqlitePushStore(options.path);
}

class SqlitePushStore implements PushStore {
  readonly name = 'sqlite';
  private opened: { db: Database.Database; statements: Statements } | undefined;
  private collapseMs = 0;

  constructor(private readonly path: string) {}

  async open(settings: PushStoreSettings): Promise<void> {
    this.collapseMs = settings.collapseMs;
    if (this.opened) return;
    mkdirSync(dirname(this.path), { recursive: true });
    const db = new Database(this.path);
    try {
      db.pragma('busy_timeout = 5000');
      const mode = db.pragma('journal_mode = WAL', { simple: true });
      if (mode !== 'wal') throw new Error(`could not switch ${this.path} to WAL mode (got ${String(mode)})`);
      // NORMAL in WAL survives a process crash; only a power loss can drop the newest commits.
      db.pragma('synchronous = NORMAL');
      migrate(db);
      const statements = prepareStatements(db);
      // One process owns the file: every claim still standing is a previous run's, which died holding it.
      db.transaction(() => {
        statements.releaseAll.run();
        statements.releaseAllJobs.run();
      })();
      this.opened = { db, statements };
    } catch (error) {
      db.close();
      throw error;
    }
  }

  async close(): Promise<void> {
    const opened = this.opened;
    this.opened = undefined;
    opened?.db.close();
  }

  private get db(): Database.Database {
    return this.current().db;
  }

  private get statements(): Statements {
    return this.current().statements;
  }

  private current(): { db: Database.Database; statements: Statements } {
    if (!this.opened) throw new NatterError(ErrorCode.UNAVAILABLE, 'the push store is not open');
    return this.opened;
  }

  /** Registers (or replaces) a device's subscription, and takes the endpoint/token from any other device. */
  async putSubscription(
    userId: string,
    deviceId: string,
    subscription: PushSubscriptionInput,
    now: number,
  ): Promise<void> {
    const clean = normalizeSubscription(subscription);
    const key = subscriptionKey(clean);
    this.db.transaction(() => {
      this.statements.removeByKey.run(clean.kind, key, userId, deviceId);
      this.statements.putSubscription.run(userId, deviceId, clean.kind, key, JSON.stringify(clean), now);
    })();
  }

  async removeSubscriptions(userId: string, deviceId?: string): Promise<void> {
    if (deviceId === undefined) this.statements.removeUser.run(userId);
    else this.statements.removeDevice.run(userId, deviceId);
  }

  async subscription(userId: string, deviceId: string): Promise<StoredSubscription | undefined> {
    const row = this.statements.subscription.get(userId, deviceId) as SubscriptionRow | undefined;
    return row && toSubscription(row);
  }

  async subscriptionsOf(userId: string): Promise<StoredSubscription[]> {
    return (this.statements.subscriptionsOf.all(userId) as SubscriptionRow[]).map(toSubscription);
  }

  /** Muting also drops what is owed for the channel. */
  async setMuted(userId: string, channelId: string, muted: boolean): Promise<void> {
    this.db.transaction(() => {
      if (muted) {
        this.statements.mute.run(userId, channelId);
        this.statements.dropPendingOf.run(userId, channelId);
      } else {
        this.statements.unmute.run(userId, channelId);
      }
    })();
  }

  async isMuted(userId: string, channelId: string): Promise<boolean> {
    return this.muted(userId, channelId);
  }

  private muted(userId: string, channelId: string): boolean {
    return this.statements.isMuted.get(userId, channelId) !== undefined;
  }

  /**
   * Records owed notifications, in one transaction. A new (user, channel) is due at once, or when its
   * collapse window ends; later messages join it. Users without subscriptions, muted channels and
   * entries already notified are skipped.
   * Returns how many were recorded.
   */
  async enqueue(messages: readonly OwedMessage[], now: number): Promise<number> {
    return this.db.transaction(() => {
      let recorded = 0;
      for (const m of messages) {
        // Users with no device registered (most, in many apps) cost nothing further.
        if (this.statements.hasSubscription.get(m.userId) === undefined) continue;
        if (this.muted(m.userId, m.channelId)) continue;
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

  async claimDuePending(now: number, limit: number, leaseMs: number): Promise<PendingNotification[]> {
    return this.db.transaction(() => {
      const due = (this.statements.duePending.all({ now, limit }) as PendingRow[]).map(toPending);
      for (const p of due) this.statements.claimPending.run(now + leaseMs, p.userId, p.channelId);
      return due;
    })();
  }

  async postponePending(userId: string, channelId: string, dueAt: number): Promise<void> {
    this.statements.postpone.run(dueAt, userId, channelId);
  }

  async dropPending(userId: string, channelId: string, upToSeq: number): Promise<void> {
    this.db.transaction(() => {
      const dropped = this.statements.dropPending.run(userId, channelId, upToSeq).changes > 0;
      // A newer message joined while it was claimed: released, it is due again now, not when the claim ends.
      if (!dropped) this.statements.releasePending.run(userId, channelId);
    })();
  }

  async dropMessage(channelId: string, seq: number, senderId: string): Promise<void> {
    this.db.transaction(() => {
      const params = { channelId, seq, senderId };
      this.statements.dropDeletedOnly.run(params);
      this.statements.shrinkDeleted.run(params);
    })();
  }

  /**
   * Turns the owed notification of (user, channel) into one job per subscribed device, records the
   * collapse window, and removes it from pending: one transaction, so it is sent once or stays owed.
   */
  async promote(
    userId: string,
    channelId: string,
    now: number,
    build: (pending: PendingNotification) => PushPayload,
  ): Promise<PromoteResult> {
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
      const devices = (this.statements.subscriptionsOf.all(userId) as SubscriptionRow[]).map(toSubscription);
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

  async claimDueJobs(now: number, limit: number, leaseMs: number): Promise<PushJob[]> {
    return this.db.transaction(() => {
      const jobs = (this.statements.dueJobs.all({ now, limit }) as JobRow[]).map(toJob);
      for (const job of jobs) this.statements.claimJob.run(now + leaseMs, job.id, job.deviceId);
      return jobs;
    })();
  }

  /**
   * Records how a job ended (with `sent_at`), and for `gone` removes the subscription it was sent to,
   * unless the device registered another endpoint meanwhile. Returns false when the job was already
   * finished.
   */
  async finishJob(
    job: PushJob,
    outcome: JobOutcome,
    now: number,
    attempts: number,
    goneKey?: string,
  ): Promise<boolean> {
    return this.db.transaction(() => {
      const changed = this.statements.finishJob.run(now, outcome, attempts, job.id, job.deviceId).changes > 0;
      if (changed && outcome === 'gone' && goneKey !== undefined) {
        this.statements.removeIfUnchanged.run(job.userId, job.deviceId, goneKey);
      }
      return changed;
    })();
  }

  async retryJob(job: PushJob, attempts: number, dueAt: number): Promise<void> {
    this.statements.retryJob.run(attempts, dueAt, job.id, job.deviceId);
  }

  /** Deletes finished jobs older than `finishedBefore`, and collapse windows long over. */
  async queueReaction(
    userId: string,
    channelId: string,
    now: number,
    build: () => PushPayload,
  ): Promise<number> {
    return this.db.transaction((): number => {
      if (this.muted(userId, channelId)) return 0;
      const devices = (this.statements.subscriptionsOf.all(userId) as SubscriptionRow[]).map(toSubscription);
      if (devices.length === 0) return 0;
      const params = { userId, channelId, now, collapseMs: this.collapseMs };
      if (this.statements.claimReactionWindow.get(params) === undefined) return 0;
      const payload = build();
      const raw = JSON.stringify(payload);
      for (const device of devices) {
        this.statements.insertJob.run(payload.id, device.deviceId, userId, channelId, raw, now, now);
      }
      return devices.length;
    })();
  }

  async purge(finishedBefore: number, now: number): Promise<void> {
    this.statements.purgeJobs.run(finishedBefore);
    this.statements.purgeCollapse.run(now - this.collapseMs - 24 * 3_600_000);
    this.statements.purgeReactionWindows.run(now - this.collapseMs);
  }

  /** Owed notifications and unfinished jobs, for tests and health checks. */
  async counts(): Promise<{ pending: number; jobs: number }> {
    const n = (row: unknown) => (row as { n: number }).n;
    return { pending: n(this.statements.countPending.get()), jobs: n(this.statements.countJobs.get()) };
  }
}
