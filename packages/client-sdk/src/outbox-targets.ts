import { ErrorCode, NatterError } from '@natter/protocol';
import { toError } from './errors.js';
import { dependsOn, mutationOf } from './outbox-items.js';
import type { OutboxLedger } from './outbox-ledger.js';
import type { OutboxEntry } from './outbox-state.js';
import { isSendItem, type MutationTarget, type OutboxMutationItem } from './store.js';

/** Sends' seqs remembered by `clientMsgId`, for changes that refer to a message sent a moment ago. */
const MAX_SENT_SEQS = 10_000;

/** What resolving targets needs from the outbox. */
export interface TargetDeps {
  /** The seq of the user's message `clientMsgId` in `channelId`, if the client's cache knows it. */
  findSent?(channelId: string, clientMsgId: string): Promise<number | undefined>;
  /** Whether sync has caught up: a target still unknown then was never stored. */
  isLive(): boolean;
  onError(err: Error): void;
}

/**
 * Where a change goes: the `seq` of the message it changes. A change made while its message was still in
 * the outbox names it by the send's `clientMsgId`; this resolves that to the stored `seq` (from the send's
 * ack, from sync when another client sent it, or from the cache after a restart) and rewrites the change,
 * in the store too, so a restart need not look it up again.
 */
export class ChangeTargets {
  private readonly sentSeqs = new Map<string, number>();

  constructor(
    private readonly ledger: OutboxLedger,
    private readonly deps: TargetDeps,
  ) {}

  /** The seq of one of the user's messages became known (its ack, or sync). */
  remember(clientMsgId: string, seq: number): void {
    this.sentSeqs.set(clientMsgId, seq);
    if (this.sentSeqs.size > MAX_SENT_SEQS) this.sentSeqs.delete(this.sentSeqs.keys().next().value as string);
  }

  /** A send's `clientMsgId` as a change's target: its seq when it is known already. */
  targetOf(clientMsgId: string): MutationTarget {
    const seq = this.sentSeqs.get(clientMsgId);
    return seq !== undefined ? { seq } : { clientMsgId };
  }

  /** The changes still waiting for the send `clientMsgId`, in no particular order. */
  dependents(clientMsgId: string): OutboxEntry[] {
    return [...this.ledger.entries.values()].filter((entry) => dependsOn(entry, clientMsgId));
  }

  /** The send `clientMsgId` is stored at `seq`: the changes waiting for it learn it (before its row goes). */
  settle(clientMsgId: string, seq: number): void {
    this.remember(clientMsgId, seq);
    for (const dependent of this.dependents(clientMsgId)) this.rewrite(dependent.item.clientMsgId, seq);
  }

  /**
   * The seq a change goes to, or undefined while its send settles elsewhere (look again later).
   * @throws NatterError NATTER_NOT_FOUND when the send failed, or was never stored (unknown once sync is live).
   */
  async seqOf(item: OutboxMutationItem): Promise<number | undefined> {
    if ('seq' in item.target) return item.target.seq;
    const sendId = item.target.clientMsgId;
    const send = this.ledger.get(sendId);
    if (send && send.phase.name === 'failed' && isSendItem(send.item))
      throw new NatterError(ErrorCode.NOT_FOUND, 'the message it changes failed to send');
    const seq = this.sentSeqs.get(sendId) ?? (await this.deps.findSent?.(item.channelId, sendId));
    if (seq !== undefined) {
      this.rewrite(item.clientMsgId, seq);
      return seq;
    }
    if (!send && this.deps.isLive())
      throw new NatterError(ErrorCode.NOT_FOUND, 'the message it changes was never stored');
    return undefined;
  }

  /** Rewrites a change's target to the stored seq, in memory and in the store. */
  private rewrite(id: string, seq: number): void {
    const entry = this.ledger.get(id);
    const item = mutationOf(entry);
    if (!entry || !item) return;
    const next = { ...entry, item: { ...item, target: { seq } }, editedAt: this.ledger.stamp() };
    this.ledger.set(next);
    void this.ledger
      .write((store) => store.putOutbox(next.item))
      .catch((err: unknown) => {
        this.deps.onError(toError(err));
      });
  }
}
