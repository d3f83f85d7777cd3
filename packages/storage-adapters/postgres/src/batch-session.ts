import type { AppendedMessage, CheckedAppendResult } from '@natter/server-core';
import type { PoolClient, QueryResultRow } from 'pg';
import {
  type AppendGroupRow,
  type AppendOp,
  appendGroupValues,
  splitByKey,
  toOpResults,
} from './append-group.js';
import { NeedsTransaction } from './errors.js';
import { type MessageRow, toMessage } from './rows.js';
import type { NamedStatement, Statements } from './statements.js';

/** How a batch's transaction holds the store's write lock (see write-queue.ts). */
export type LockMode = 'shared' | 'exclusive';

/**
 * The BEGIN statements of a write transaction, one per lock mode, and the leading values of
 * `append_group_alone` (the same lock and setting, for a group run outside a transaction).
 */
export type BeginStatements = Record<LockMode, string> & { alone: readonly unknown[] };

/** An append waiting to run with the next group. */
interface PendingAppend {
  op: AppendOp;
  resolve: (result: CheckedAppendResult | AppendedMessage) => void;
  reject: (error: unknown) => void;
}

/**
 * One batch's transaction on one pooled connection. BEGIN is sent with the first statement (a batch
 * whose calls run no SQL costs nothing), with the lock mode known by then.
 *
 * Appends (`appendMessage`, `appendChecked`) of a batch of several calls are not run at once: they
 * wait in `pending` until something else needs the connection, or the batch has started all its calls,
 * and then run together in one `append_group` call. Statements therefore still reach PostgreSQL in the
 * order the calls issued them.
 *
 * The first SQL error is remembered: PostgreSQL has aborted the transaction (or the savepoint's
 * subtransaction), so everything after it fails with that error until `rollbackToSavepoint`.
 */
export class BatchSession {
  /** The first SQL error since BEGIN (or the last savepoint rollback). */
  failure: { error: unknown } | undefined;
  private begun = false;
  private pending: PendingAppend[] = [];

  constructor(
    private readonly client: PoolClient,
    private readonly sql: Statements,
    private readonly begins: BeginStatements,
    /** Asked once, when the transaction begins. */
    private readonly lockMode: () => LockMode,
    /**
     * No transaction: every group of appends is a statement of its own (`append_group_alone`) that
     * commits when it returns, and a group's failure fails that group's appends only. For batches of
     * calls hinted `appendOnly`, which use their transaction for nothing else.
     */
    private readonly autocommit = false,
  ) {}

  /** Runs a statement after the appends queued before it. */
  async run<R extends QueryResultRow>(statement: NamedStatement, values: unknown[]): Promise<R[]> {
    await this.flushAppends();
    return this.execute<R>(statement, values);
  }

  /** Queues an append for the next group; settles when that group ran. */
  defer(op: AppendOp): Promise<CheckedAppendResult | AppendedMessage> {
    return new Promise((resolve, reject) => this.pending.push({ op, resolve, reject }));
  }

  /** Runs every queued append, in `append_group` calls of distinct keys, in queue order. */
  async flushAppends(): Promise<void> {
    if (this.autocommit) return this.flushAlone();
    while (this.pending.length > 0) {
      const groups = splitByKey(this.pending.splice(0));
      // Several append_group calls in one transaction take their locks in no global order: alone.
      if (groups.length > 1) await this.begin('exclusive');
      for (const [i, group] of groups.entries()) {
        let results: ReturnType<typeof toOpResults>;
        try {
          const ops = group.map((p) => p.op);
          const rows = await this.execute<AppendGroupRow>(this.sql.appendGroup, appendGroupValues(ops));
          results = toOpResults(ops, rows);
          await this.completeAppends(ops, results);
        } catch (error) {
          // This group and every later one fail, and so does the batch: what the statement stored (if
          // anything) must not commit.
          this.failure ??= { error };
          for (const p of groups.slice(i).flat()) p.reject(error);
          throw error;
        }
        for (const [j, p] of group.entries()) {
          const result = results[j]!;
          if (result.ok) p.resolve(result.value);
          else p.reject(result.error);
        }
      }
    }
  }

  /**
   * The autocommit flush: each group commits by itself, so one group's failure (a lost key race, a
   * deadlock) leaves the others' appends committed and only its own to be run again.
   */
  private async flushAlone(): Promise<void> {
    while (this.pending.length > 0) {
      for (const group of splitByKey(this.pending.splice(0))) {
        const ops = group.map((p) => p.op);
        // Attachments and references are written by a second statement (completeAppends), which must
        // share the append's transaction: such an append goes back to the transactional path unrun.
        if (ops.some(needsCompletion)) {
          const refused = new NeedsTransaction(
            'an append with attachments or references needs a transaction',
          );
          for (const p of group) p.reject(refused);
          continue;
        }
        let results: ReturnType<typeof toOpResults>;
        try {
          const rows = (
            await this.client.query<AppendGroupRow>({
              ...this.sql.appendGroupAlone,
              values: [...this.begins.alone, ...appendGroupValues(ops)],
            })
          ).rows;
          results = toOpResults(ops, rows);
          await this.completeAppends(ops, results);
        } catch (error) {
          for (const p of group) p.reject(error);
          continue;
        }
        for (const [j, p] of group.entries()) {
          const result = results[j]!;
          if (result.ok) p.resolve(result.value);
          else p.reject(result.error);
        }
      }
    }
  }

  /**
   * What `append_group` (whose signature predates them) does not write goes in with an UPDATE in the same
   * transaction: attachments, and a reply's references. A retried send reads its original back whole,
   * as it is now (edited, deleted, with its attachments). Few messages need any of it.
   */
  private async completeAppends(ops: readonly AppendOp[], results: ReturnType<typeof toOpResults>) {
    for (const [i, op] of ops.entries()) {
      const result = results[i]!;
      if (!result.ok) continue;
      const value = result.value;
      if ('kind' in value) {
        if (value.kind === 'duplicate') {
          const { channelId, seq } = value.message;
          const [row] = await this.execute<MessageRow>(this.sql.message, [channelId, seq]);
          if (row) value.message = toMessage(row);
          continue;
        }
        if (value.kind !== 'appended') continue;
      }
      const message = 'kind' in value ? value.appended.message : value.message;
      const attachments = op.kind === 'checked' ? op.send.attachments : op.message.attachments;
      if (attachments && attachments.length > 0) {
        await this.execute(this.sql.setAttachments, [
          JSON.stringify(attachments),
          message.channelId,
          message.seq,
        ]);
        message.attachments = structuredClone(attachments);
      }
      if (op.kind === 'plain' && (op.message.replyTo !== undefined || op.message.threadRoot !== undefined)) {
        const { replyTo, threadRoot } = op.message;
        await this.execute(this.sql.setReferences, [
          replyTo ?? null,
          threadRoot ?? null,
          message.channelId,
          message.seq,
        ]);
        if (replyTo !== undefined) message.replyTo = replyTo;
        if (threadRoot !== undefined) message.threadRoot = threadRoot;
      }
    }
  }

  /** Starts the transaction if no statement did yet (in `mode`, else the one `lockMode` tells). */
  async begin(mode?: LockMode): Promise<void> {
    if (this.autocommit) throw new NeedsTransaction('a write hinted appendOnly asked for a transaction');
    if (this.begun) return;
    this.begun = true;
    await this.control(this.begins[mode ?? this.lockMode()]);
  }

  /** COMMIT; a transaction PostgreSQL had aborted answers ROLLBACK, which is an error here. */
  async commit(): Promise<void> {
    await this.flushAppends();
    if (this.failure) throw this.failure.error;
    if (!this.begun) return;
    const result = await this.client.query('COMMIT');
    if (result.command !== 'COMMIT') throw new Error(`COMMIT answered ${result.command}`);
  }

  /** ROLLBACK of whatever ran; throws only when the connection is broken. */
  async rollback(): Promise<void> {
    for (const p of this.pending.splice(0)) p.reject(new Error('the write batch was rolled back'));
    if (this.begun) await this.client.query('ROLLBACK');
  }

  async savepoint(): Promise<void> {
    await this.begin();
    await this.control('SAVEPOINT natter_call');
  }

  async releaseSavepoint(): Promise<void> {
    await this.flushAppends();
    if (this.failure) throw this.failure.error;
    await this.control('RELEASE SAVEPOINT natter_call');
  }

  /** Undoes the current call alone; the transaction is usable again afterwards. */
  async rollbackToSavepoint(): Promise<void> {
    for (const p of this.pending.splice(0)) p.reject(new Error('the write was rolled back'));
    this.failure = undefined;
    await this.control('ROLLBACK TO SAVEPOINT natter_call; RELEASE SAVEPOINT natter_call');
  }

  private async execute<R extends QueryResultRow>(
    statement: NamedStatement,
    values: unknown[],
  ): Promise<R[]> {
    if (this.failure) throw this.failure.error;
    if (this.autocommit) {
      // A duplicate's message row is read after its group (committed rows, no transaction needed);
      // anything else would break the `appendOnly` promise and is refused before it writes.
      if (statement !== this.sql.message) {
        throw new NeedsTransaction(
          `a write hinted appendOnly ran ${statement.name}, which needs a transaction`,
        );
      }
      return (await this.client.query<R>({ ...statement, values })).rows;
    }
    await this.begin();
    try {
      return (await this.client.query<R>({ ...statement, values })).rows;
    } catch (error) {
      this.failure ??= { error };
      throw error;
    }
  }

  /** A transaction-control statement (simple protocol, no values); its failure poisons the batch. */
  private async control(text: string): Promise<void> {
    if (this.failure) throw this.failure.error;
    try {
      await this.client.query(text);
    } catch (error) {
      this.failure ??= { error };
      throw error;
    }
  }
}

/** True for an append that `completeAppends` finishes with a statement of its own. */
function needsCompletion(op: AppendOp): boolean {
  if (op.kind === 'checked') return (op.send.attachments?.length ?? 0) > 0;
  const { message } = op;
  return (
    (message.attachments?.length ?? 0) > 0 ||
    message.replyTo !== undefined ||
    message.threadRoot !== undefined
  );
}
