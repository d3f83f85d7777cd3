import { toError } from './errors.js';
import type { OutboxLedger } from './outbox-ledger.js';
import { channelHeads, type OutboxEntry, transmitting } from './outbox-state.js';
import type { ClientStore } from './store.js';

/** What the pump needs from its outbox. */
export interface PumpDeps {
  ledger: OutboxLedger;
  store: ClientStore;
  /** This client's lease owner id. */
  owner: string;
  leaseMs: number;
  scanIntervalMs: number;
  now(): number;
  userId(): string | undefined;
  /** True while entries may go on the wire (running, connection open). */
  sending(): boolean;
  /** Puts an entry (leased, in flight) on the wire; settles it on its own. */
  transmit(entry: OutboxEntry): void;
  /** Re-reads the store (other clients sharing it add and settle entries). */
  refresh(): Promise<void>;
  onError(err: Error): void;
}

/**
 * The sending rounds of the outbox: per channel stop-and-wait (the next entry of a channel goes out only
 * after the previous one was acknowledged or failed, because the server handles a connection's frames
 * concurrently and would not keep a pipelined order), a lease taken atomically in the store before each
 * attempt, and a timer for retry delays, leases held elsewhere and re-reads of the store.
 */
export class OutboxPump {
  private state: 'idle' | 'running' | 'again' = 'idle';
  private timer: ReturnType<typeof setTimeout> | undefined;
  private stopped = false;

  constructor(private readonly deps: PumpDeps) {}

  /** Triggers a sending round (coalesced: a round requested while one runs runs once more after it). */
  kick(): void {
    if (this.stopped) return;
    if (this.state !== 'idle') {
      this.state = 'again';
      return;
    }
    this.state = 'running';
    void (async () => {
      try {
        do {
          this.state = 'running';
          await this.round();
        } while (this.wantsAnotherRound());
      } catch (err) {
        this.deps.onError(toError(err));
      } finally {
        this.state = 'idle';
      }
    })();
  }

  private wantsAnotherRound(): boolean {
    return this.state === 'again' && !this.stopped;
  }

  /** No more rounds nor timers until {@link resume}. */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  resume(): void {
    this.stopped = false;
  }

  private async round(): Promise<void> {
    const { ledger, owner } = this.deps;
    const me = this.deps.userId();
    if (!this.deps.sending() || !me) return;
    const now = this.deps.now();
    let wakeAt = Number.POSITIVE_INFINITY;
    let contended = false;
    for (const head of channelHeads(ledger.entries.values(), me)) {
      const { phase, item } = head;
      if (phase.name !== 'queued') continue; // persisting or in flight: the channel waits
      if (phase.notBefore > now) {
        wakeAt = Math.min(wakeAt, phase.notBefore);
        continue;
      }
      if (item.lease && item.lease.owner !== owner && item.lease.expiresAt > now) {
        wakeAt = Math.min(wakeAt, item.lease.expiresAt);
        continue;
      }
      const id = item.clientMsgId;
      const leased = await this.deps.store.leaseOutbox(id, owner, this.deps.leaseMs, now);
      if (!this.deps.sending()) return;
      if (!leased) {
        contended = true;
        continue;
      }
      const current = ledger.get(id);
      // Settled (acked, seen through sync, discarded) or taken elsewhere while the lease was being taken.
      if (current?.phase.name !== 'queued' || ledger.isSettled(id)) continue;
      const next = transmitting(
        current,
        leased.userId === '' ? { ...leased, userId: me } : leased,
        ledger.stamp(),
      );
      ledger.set(next);
      this.deps.transmit(next);
    }
    // Someone else holds a lease or took an item: re-read the store and look again when the lease ends.
    if (contended) {
      await this.deps.refresh();
      wakeAt = Math.min(wakeAt, now + this.deps.leaseMs);
    }
    // While open, re-read the store now and then: other tabs add entries (and settle them) meanwhile.
    this.schedule(Math.min(wakeAt, now + this.deps.scanIntervalMs));
  }

  private schedule(at: number): void {
    clearTimeout(this.timer);
    if (!Number.isFinite(at) || this.stopped) return;
    const delay = Math.max(0, at - this.deps.now());
    this.timer = setTimeout(() => {
      void this.deps.refresh().then(
        () => this.kick(),
        (err: unknown) => this.deps.onError(toError(err)),
      );
    }, delay);
  }
}
