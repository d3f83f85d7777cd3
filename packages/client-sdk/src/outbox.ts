import {
  ErrorCode,
  type Message,
  type MessageEntry,
  NatterError,
  newId,
  newPrefixedId,
} from '@natter/protocol';
import type { MutationResult } from './client-types.js';
import { errorCodeOf, isNatterError, isRetryable, toError } from './errors.js';
import type { OutboxAttachment } from './media.js';
import {
  type AnnounceArgs,
  announce,
  type OutboxDeps,
  type OutboxEvent,
  type SendHandle,
} from './outbox-api.js';
import {
  type ChangeRequest,
  changeItem,
  mutationFrame,
  mutationOf,
  type PendingChange,
  type PendingMessage,
  sendFrameOf,
  toPendingChange,
  toPendingMessage,
  validateChange,
  validateSend,
} from './outbox-items.js';
import { OutboxLedger } from './outbox-ledger.js';
import { OutboxPump } from './outbox-pump.js';
import { failed, type OutboxEntry, persisting, resent, retryLater } from './outbox-state.js';
import { ChangeTargets } from './outbox-targets.js';
import { Waiters } from './outbox-waiters.js';
import {
  isSendItem,
  type OutboxError,
  type OutboxItem,
  type OutboxMutationItem,
  type OutboxSendItem,
} from './store.js';

export type { AckEvent, ChangeEvent, OutboxDeps, OutboxEvent, SendHandle } from './outbox-api.js';
export type { ChangeRequest, OutboxStatus, PendingChange, PendingMessage } from './outbox-items.js';

/** How long a change whose target is not known yet waits before looking again, ms. */
const UNRESOLVED_WAIT_MS = 1_000;

/**
 * The durable outbox of sends and changes (edit, delete, react). Each entry is persisted before anything
 * goes on the wire; it is sent when a connection is open, resent after reconnects and retryable errors,
 * and removed when acknowledged (a send also by seeing it arrive through sync). Entries of a channel go
 * out one at a time in the order they were made (see {@link OutboxPump}), so a change made after a send
 * reaches the server after it. A change may refer to a send still in the outbox by its `clientMsgId`; it
 * is resolved to the stored `seq` when that send is acknowledged. A lease in the store (owner + expiry,
 * taken atomically) makes sure two clients sharing a store never send the same entry at once; the server
 * answers a resend with the original result (sends by `clientMsgId`, changes by `clientId`).
 *
 * Each entry is one {@link OutboxEntry} whose phase is a union (see `outbox-state.ts`); this class moves
 * entries between phases and does the I/O (store, wire) through the ledger and the pump.
 */
export class Outbox {
  /** This client's lease owner id. */
  readonly owner = newId();
  /** Resends after retryable failures, for `stats()`. */
  retries = 0;
  private readonly ledger: OutboxLedger;
  private readonly pump: OutboxPump;
  /** `acked` promises of messages this client was asked to send. */
  private readonly sendWaiters = new Waiters<Message>();
  /** Promises of changes this client was asked to make. */
  private readonly changeWaiters = new Waiters<MutationResult>();
  /** Resolves changes to pending sends to the stored seq. */
  private readonly targets: ChangeTargets;
  /** `running` sends; `stopped` keeps entries and queues store writes but puts nothing on the wire. */
  private mode: 'stopped' | 'running' = 'running';

  constructor(private readonly deps: OutboxDeps) {
    this.ledger = new OutboxLedger({
      store: deps.store,
      isMine: (item) => this.isMine(item),
      onAppeared: (entry) => this.announce(entry),
    });
    this.targets = new ChangeTargets(this.ledger, {
      ...(deps.findSent ? { findSent: deps.findSent } : {}),
      isLive: () => (deps.isLive ?? deps.isOpen)(),
      onError: deps.onError,
    });
    this.pump = new OutboxPump({
      ledger: this.ledger,
      store: deps.store,
      owner: this.owner,
      leaseMs: deps.leaseMs,
      scanIntervalMs: deps.scanIntervalMs ?? Math.max(1_000, deps.leaseMs / 4),
      now: deps.now,
      userId: deps.userId,
      sending: () => this.mode === 'running' && deps.isOpen(),
      transmit: (entry) => void this.transmit(entry),
      refresh: () => this.refresh(),
      onError: deps.onError,
    });
  }

  /** Loads persisted items (left by an earlier run or another tab). */
  async load(): Promise<void> {
    await this.refresh();
    this.ledger.loaded = true;
  }

  /** Messages of the current user waiting or failed, in sending order. */
  list(): PendingMessage[] {
    return this.mine().flatMap((entry) =>
      isSendItem(entry.item) ? [toPendingMessage(entry, entry.item)] : [],
    );
  }

  /** Changes of the current user waiting or failed, in sending order. */
  changes(): PendingChange[] {
    return this.mine().flatMap((entry) => {
      const item = mutationOf(entry);
      return item ? [toPendingChange(entry, item)] : [];
    });
  }

  /** Changes of the current user still to be applied (not failed), in order: the optimistic view's input. */
  pendingChanges(): OutboxMutationItem[] {
    return this.mine().flatMap((entry) => {
      const item = mutationOf(entry);
      return item && entry.phase.name !== 'failed' ? [item] : [];
    });
  }

  /** Number of entries (sends and changes) of the current user still in the outbox. */
  get depth(): number {
    return this.mine().length;
  }

  /** Queues a message; see {@link SendHandle}. @throws NatterError for input that can never be sent. */
  send(
    channelId: string,
    text: string,
    mentions: readonly string[] = [],
    attachments: readonly OutboxAttachment[] = [],
    refs: { replyTo?: number; threadRoot?: number } = {},
    e2ee?: OutboxSendItem['e2ee'],
  ): SendHandle {
    validateSend(channelId, text, mentions, attachments, this.deps.limits().maxMessageBytes);
    const now = this.deps.now();
    const item: OutboxSendItem = {
      clientMsgId: newId(now),
      userId: this.deps.userId() ?? '',
      channelId,
      text,
      mentions: [...new Set(mentions)],
      ...(refs.replyTo !== undefined ? { replyTo: refs.replyTo } : {}),
      ...(refs.threadRoot !== undefined ? { threadRoot: refs.threadRoot } : {}),
      ...(attachments.length > 0 ? { attachments: [...attachments] } : {}),
      ...(e2ee ? { e2ee } : {}),
      createdAt: now,
      order: this.ledger.nextOrder(now),
      status: 'pending',
      attempts: 0,
    };
    const acked = this.sendWaiters.promise(item.clientMsgId);
    const entry = this.enqueue(persisting(item, this.ledger.stamp()));
    return { message: toPendingMessage(entry, item), acked };
  }

  /**
   * Queues a change of the message `target` (its `seq`, or the `clientMsgId` of a send still pending).
   * Settles with the server's answer, or rejects with its typed error, `NATTER_CLIENT_CLOSED` or
   * `NATTER_CLIENT_DISCARDED`. A delete of a send that has not left yet cancels that send instead.
   * @throws NatterError for input that can never be applied.
   */
  change(channelId: string, target: number | string, request: ChangeRequest): Promise<MutationResult> {
    validateChange(channelId, target, request, this.deps.limits().maxMessageBytes);
    if (request.kind === 'delete' && typeof target === 'string') {
      const cancelled = this.cancelSend(target);
      if (cancelled) {
        return cancelled.then((done) =>
          done ? { entry: null, duplicate: false } : this.queueChange(channelId, target, request),
        );
      }
    }
    return this.queueChange(channelId, target, request);
  }

  /** Sends a failed (or waiting) message again, after everything queued now in its channel. */
  retry(clientMsgId: string): SendHandle {
    const entry = this.ledger.get(clientMsgId);
    if (!entry || entry.phase.name === 'vanished' || !isSendItem(entry.item)) {
      throw new NatterError(ErrorCode.NOT_FOUND, 'no such pending message');
    }
    const acked = this.sendWaiters.promise(clientMsgId);
    const next = this.requeue(entry);
    // Changes waiting for this send move behind it again, or they would wait for it from ahead of it.
    for (const dependent of this.targets.dependents(clientMsgId))
      if (dependent.phase.name !== 'failed') this.requeue(dependent);
    return { message: toPendingMessage(next, next.item as OutboxSendItem), acked };
  }

  /** Sends a failed (or waiting) change again, after everything queued now in its channel. */
  retryChange(clientId: string): Promise<MutationResult> {
    const entry = this.ledger.get(clientId);
    if (!entry || entry.phase.name === 'vanished' || isSendItem(entry.item)) {
      return Promise.reject(new NatterError(ErrorCode.NOT_FOUND, 'no such pending change'));
    }
    const result = this.changeWaiters.promise(clientId);
    this.requeue(entry);
    return result;
  }

  /**
   * Removes a message or change from the outbox (with the changes waiting for that message). One whose frame
   * is already on the wire may still be applied by the server; a message then arrives through sync.
   */
  async discard(id: string): Promise<boolean> {
    const entry = this.ledger.get(id);
    if (!entry || entry.phase.name === 'vanished') return false;
    await this.drop(entry);
    return true;
  }

  /** A session opened: resend at once what waited for the connection or a retry delay. */
  onOpen(): void {
    for (const entry of [...this.ledger.entries.values()]) {
      if (entry.phase.name === 'queued' && entry.phase.notBefore > 0) this.ledger.set(retryLater(entry, 0));
    }
    void this.refresh().then(() => this.pump.kick());
  }

  /** An entry was delivered: if it is one of ours, it is acknowledged, whichever client sent it. */
  onEntry(entry: MessageEntry): void {
    const { clientMsgId, senderId, seq } = entry.message;
    if (!clientMsgId || senderId !== this.deps.userId()) return;
    this.targets.remember(clientMsgId, seq);
    if (this.ledger.get(clientMsgId) || this.sendWaiters.has(clientMsgId))
      void this.complete(clientMsgId, entry, false);
    else this.ledger.forget(clientMsgId);
  }

  /**
   * (Re)starts after {@link stop} or {@link close} (the store must be open again): store operations resume,
   * and an entry queued meanwhile leaves as soon as a connection is open.
   */
  start(): void {
    this.ledger.openStore();
    if (this.mode === 'running') return;
    this.mode = 'running';
    this.pump.resume();
    void this.refresh().then(() => this.pump.kick());
  }

  /** Stops sending at once; call before the connection closes so in-flight sends are not mistaken for failures. */
  stop(): void {
    this.mode = 'stopped';
    this.pump.stop();
  }

  /**
   * Stops sending, finishes queued store writes, and releases this client's leases so another client can take
   * over at once. Promises of entries still pending reject with `NATTER_CLIENT_CLOSED`; the entries stay in
   * the store (and in this outbox: `start()` sends them).
   */
  async close(): Promise<void> {
    this.stop();
    const closed = new NatterError(ErrorCode.CLIENT_CLOSED, 'client closed; the entry stays in the outbox');
    this.sendWaiters.rejectAll(closed);
    this.changeWaiters.rejectAll(closed);
    // Entries cut short in flight go back to the queue: the next start sends them again.
    for (const entry of [...this.ledger.entries.values()])
      if (entry.phase.name === 'in-flight') this.ledger.set(retryLater(entry, 0));
    await this.releaseLeases();
    // The store closes after this: later store operations wait for start().
    this.ledger.closeStore();
  }

  /**
   * Gives up this client's leases so another client (a reloaded tab) can send these entries at once instead
   * of waiting for the leases to expire; for `pagehide` and `close()`. Sending goes on if the page stays: a
   * lease is taken again before each attempt, and the server deduplicates. The leases this client knows of
   * are released at once, before anything else can run (a page being unloaded may not get further); then
   * the store is scanned, after queued writes, for any other.
   */
  async releaseLeases(): Promise<void> {
    await this.ledger.releaseLeases(this.owner, (err) => this.deps.onError(toError(err)));
  }

  /** Triggers a sending round. */
  kick(): void {
    this.pump.kick();
  }

  private queueChange(
    channelId: string,
    target: number | string,
    request: ChangeRequest,
  ): Promise<MutationResult> {
    const now = this.deps.now();
    const item = changeItem(request, {
      clientMsgId: newPrefixedId('mut', now),
      userId: this.deps.userId() ?? '',
      channelId,
      target: typeof target === 'number' ? { seq: target } : this.targets.targetOf(target),
      createdAt: now,
      order: this.ledger.nextOrder(now),
      status: 'pending',
      attempts: 0,
    });
    const result = this.changeWaiters.promise(item.clientMsgId);
    this.enqueue(persisting(item, this.ledger.stamp()));
    return result;
  }

  /**
   * Cancels a send nothing of which may have reached the server: not in flight here, and its lease free
   * (taken here, atomically, so no other client sharing the store sends it meanwhile). Undefined when it is
   * not a cancellable send; else resolves to whether it was cancelled.
   */
  private cancelSend(clientMsgId: string): Promise<boolean> | undefined {
    const entry = this.ledger.get(clientMsgId);
    if (!entry || !isSendItem(entry.item)) return undefined;
    const { name } = entry.phase;
    if (name === 'in-flight' || name === 'vanished') return undefined;
    // Out of the pump's reach at once; put back if another client turns out to hold it.
    this.ledger.forget(clientMsgId);
    return this.ledger
      .removeUnsent(clientMsgId, this.owner, this.deps.leaseMs, this.deps.now)
      .then(async (cancelled) => {
        if (!cancelled) {
          this.ledger.unforget(entry);
          return false;
        }
        this.settleAsDiscarded(entry);
        for (const dependent of this.targets.dependents(clientMsgId)) await this.drop(dependent);
        return true;
      });
  }

  private requeue(entry: OutboxEntry): OutboxEntry {
    const next = resent(entry, this.ledger.nextOrder(this.deps.now()), this.ledger.stamp());
    this.enqueue(next);
    return next;
  }

  /** Removes an entry (and the changes waiting for it) and reports it discarded. */
  private async drop(entry: OutboxEntry): Promise<void> {
    const id = entry.item.clientMsgId;
    this.ledger.forget(id);
    await this.ledger.write((store) => store.deleteOutbox(id));
    this.settleAsDiscarded(entry);
    for (const dependent of this.targets.dependents(id)) await this.drop(dependent);
  }

  private settleAsDiscarded(entry: OutboxEntry): void {
    const id = entry.item.clientMsgId;
    this.rejectWaiter(id, new NatterError(ErrorCode.CLIENT_DISCARDED, 'discarded from the outbox'));
    this.announce(entry, 'discarded');
  }

  private async transmit(entry: OutboxEntry): Promise<void> {
    const { item } = entry;
    const id = item.clientMsgId;
    this.announce(entry);
    try {
      if (isSendItem(item) && item.e2ee) {
        if (!this.deps.sendEncrypted)
          throw new NatterError(ErrorCode.BAD_REQUEST, 'this client has no end-to-end encryption');
        const message = await this.deps.sendEncrypted(item, (next) =>
          this.ledger.write((store) => store.putOutbox(next)),
        );
        // The answer of an HTTP send has no log position; the entry itself comes through sync.
        await this.complete(id, { kind: 'message', pos: 0, message }, false);
        return;
      }
      if (isSendItem(item)) {
        const frame = await sendFrameOf(item, this.deps.upload, (next) =>
          this.ledger.write((store) => store.putOutbox(next)),
        );
        const answer = await this.deps.request(frame, this.deps.ackTimeoutMs);
        await this.complete(id, answer.entry, answer.duplicate);
        return;
      }
      const seq = await this.targets.seqOf(item);
      if (seq === undefined) {
        // The message it changes is not stored yet (its send settles elsewhere): look again shortly.
        const current = this.ledger.get(id);
        if (current?.phase.name === 'in-flight')
          this.ledger.set(retryLater(current, this.deps.now() + UNRESOLVED_WAIT_MS));
        return;
      }
      const answer = await this.deps.request(mutationFrame(item, seq), this.deps.ackTimeoutMs);
      await this.completeChange(id, { entry: answer.entry, duplicate: answer.duplicate });
    } catch (err) {
      const current = this.ledger.get(id);
      // Stopped meanwhile (the entry stays queued), or settled by another path: nothing to report.
      if (this.mode === 'stopped' || current?.phase.name !== 'in-flight') return;
      await this.failed(current, err);
    } finally {
      this.pump.kick();
    }
  }

  private async failed(entry: OutboxEntry, err: unknown): Promise<void> {
    const error = toError(err) as OutboxEvent['error'] & Error;
    const id = entry.item.clientMsgId;
    // Only the server's verdict is final; anything else (lost connection, timeout, a bug) is worth a retry.
    if (!isNatterError(err) || isRetryable(err) || err.code === ErrorCode.CLIENT_CLOSED) {
      this.retries++;
      const retryAfterMs = (err as { retryAfterMs?: number }).retryAfterMs;
      const notBefore = this.deps.now() + this.deps.retryDelay(entry.item.attempts - 1, retryAfterMs);
      const next = retryLater(entry, notBefore);
      this.ledger.set(next);
      await this.ledger.write((store) => store.putOutbox(next.item));
      this.announce(next, undefined, error);
      return;
    }
    const reason: OutboxError = { code: errorCodeOf(err) ?? ErrorCode.INTERNAL, message: error.message };
    const next = failed(entry, reason, this.ledger.stamp());
    this.ledger.set(next);
    await this.ledger.write((store) => store.putOutbox(next.item));
    this.rejectWaiter(id, error);
    this.announce(next, undefined, error);
    // Changes waiting for a message that will not be stored fail with it; retry() the message, then them.
    for (const dependent of this.targets.dependents(id)) {
      if (dependent.phase.name !== 'failed')
        await this.failed(
          dependent,
          new NatterError(reason.code as ErrorCode, `the message it changes failed: ${reason.message}`),
        );
    }
  }

  /** Settles a message as stored, once, whichever path (ack or sync) reports it first. */
  private async complete(clientMsgId: string, entry: MessageEntry, duplicate: boolean): Promise<void> {
    const known = this.ledger.get(clientMsgId);
    if (!known && !this.sendWaiters.has(clientMsgId)) return;
    // Changes waiting for it learn its seq before its row goes: a crash in between strands none of them.
    this.targets.settle(clientMsgId, entry.message.seq);
    this.ledger.forget(clientMsgId);
    await this.ledger.write((store) => store.deleteOutbox(clientMsgId));
    this.sendWaiters.resolve(clientMsgId, entry.message);
    this.deps.onAck({ clientMsgId, message: entry.message, pos: entry.pos, duplicate });
    if (known) this.announce(known, 'sent');
    this.pump.kick();
  }

  /** Settles a change with the server's answer. */
  private async completeChange(id: string, result: MutationResult): Promise<void> {
    const known = this.ledger.get(id);
    this.ledger.forget(id);
    await this.ledger.write((store) => store.deleteOutbox(id));
    this.changeWaiters.resolve(id, result);
    if (known) this.announce(known, 'sent', undefined, result);
  }

  private enqueue(entry: OutboxEntry): OutboxEntry {
    this.ledger.set(entry);
    this.persistThenPump(entry.item);
    this.announce(entry);
    return entry;
  }

  /** Reports an entry's status (its current one unless a final one is given) to the app. */
  private announce(entry: OutboxEntry, ...rest: AnnounceArgs): void {
    announce(this.deps, entry, ...rest);
  }

  private rejectWaiter(id: string, error: Error): void {
    this.sendWaiters.reject(id, error);
    this.changeWaiters.reject(id, error);
  }

  private persistThenPump(item: OutboxItem): void {
    // The entry is written to the store before its frame can be: a crash in between loses nothing.
    void this.ledger.persist(item, (err) => this.deps.onError(toError(err))).finally(() => this.pump.kick());
  }

  /** Re-reads the store, then settles what other clients removed long enough ago. */
  private async refresh(): Promise<void> {
    await this.ledger.refresh(this.deps.now);
    this.settleVanished(this.deps.now());
  }

  /**
   * An entry another client removed from the store, a lease period ago while live: a message sync has not
   * delivered by then was discarded there (reported `discarded`); a change was applied there (it leaves the
   * store only when answered, or discarded), so its promise here resolves as a duplicate.
   */
  private settleVanished(now: number): void {
    if (!(this.deps.isLive ?? this.deps.isOpen)()) return;
    for (const entry of this.ledger.takeVanished(now - this.deps.leaseMs)) {
      const id = entry.item.clientMsgId;
      if (isSendItem(entry.item)) this.settleAsDiscarded(entry);
      else {
        const result = { entry: null, duplicate: true };
        this.changeWaiters.resolve(id, result);
        this.announce(entry, 'sent', undefined, result);
      }
    }
  }

  private isMine(item: OutboxItem): boolean {
    return item.userId === '' || item.userId === this.deps.userId();
  }

  private mine(): OutboxEntry[] {
    return this.ledger.inOrder((item) => this.isMine(item));
  }
}
