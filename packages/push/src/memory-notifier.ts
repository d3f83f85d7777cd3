import type { PushSubscriptionInput } from '@natter/server-core';
import type { Notifier, PushPayload, SendOutcome, StoredSubscription } from './notifier.js';

/** One send attempt a {@link MemoryNotifier} recorded. */
export interface RecordedSend {
  subscription: StoredSubscription;
  payload: PushPayload;
  outcome: SendOutcome;
  at: number;
}

/** Decides the outcome of a send to a {@link MemoryNotifier}; may be async (to hold a send, say). */
export type MemoryResponder = (
  subscription: StoredSubscription,
  payload: PushPayload,
) => SendOutcome | Promise<SendOutcome>;

/**
 * A notifier that records what it is asked to send, for tests. Plug it in with
 * `createPushGateway({ notifiers: { webhook: memory } })`; `respond` scripts outcomes (default `ok`).
 */
export class MemoryNotifier implements Notifier {
  /** Every attempt, in order, with its outcome. */
  readonly attempts: RecordedSend[] = [];
  private readonly waiters = new Set<() => void>();

  constructor(
    readonly kind: PushSubscriptionInput['kind'] = 'webhook',
    public respond: MemoryResponder = () => 'ok',
  ) {}

  /** The attempts that succeeded: what devices got. */
  get delivered(): RecordedSend[] {
    return this.attempts.filter((a) => a.outcome === 'ok');
  }

  async send(subscription: StoredSubscription, payload: PushPayload): Promise<SendOutcome> {
    const outcome = await this.respond(subscription, payload);
    this.attempts.push({ subscription, payload, outcome, at: Date.now() });
    for (const wake of [...this.waiters]) wake();
    return outcome;
  }

  /** Resolves once `count` attempts have succeeded; rejects after `timeoutMs`. */
  waitForDelivered(count: number, timeoutMs = 10_000): Promise<RecordedSend[]> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (this.delivered.length < count) return false;
        this.waiters.delete(check);
        clearTimeout(timer);
        resolve(this.delivered);
        return true;
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`expected ${count} delivered notifications, got ${this.delivered.length}`));
      }, timeoutMs);
      if (!check()) this.waiters.add(check);
    });
  }
}
