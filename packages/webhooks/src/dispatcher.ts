import { EVENT_HEADERS } from '@natter/protocol';
import { SIGNATURE_HEADER, signWebhook } from '@natter/protocol/signature';
import type { EventContext } from '@natter/server-core';
import type { EventDelivery, EventStore } from './event-store.js';
import type { EventEndpoint, ResolvedWebhookOptions } from './options.js';

const PURGE_EVERY_MS = 60_000;

/**
 * The next attempt's delay: doubling from `baseMs` per attempt up to `maxMs`, half of it random, so
 * deliveries that failed together (an endpoint's restart) do not all come back at once.
 */
export function retryDelay(attempts: number, baseMs: number, maxMs: number, random = Math.random): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.min(attempts - 1, 30));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

/** A `Retry-After` header (seconds, or an HTTP date) as ms from now, when there is a usable one. */
function retryAfterMs(header: string | null, now: number): number | undefined {
  if (!header) return undefined;
  if (/^\d{1,7}$/.test(header)) return Number(header) * 1000;
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/**
 * Works the queue: each pass claims each endpoint's due deliveries up to its free concurrency and sends
 * them, signed, without waiting for them (so one slow endpoint never delays another's pass). A 2xx answer
 * settles a delivery; anything else (an error status, a timeout, a refused connection) schedules a retry
 * with backoff, until `giveUpAfterMs` after the event.
 */
export class Dispatcher {
  private readonly inFlight = new Map<string, number>();
  private readonly sending = new Set<Promise<void>>();
  private lastPurge = 0;

  constructor(
    private readonly store: EventStore,
    private readonly context: EventContext,
    private readonly options: ResolvedWebhookOptions,
  ) {}

  /** One pass over every endpoint. Returns how many deliveries it started. */
  async pass(): Promise<number> {
    let started = 0;
    const { now } = this.options;
    for (const endpoint of this.options.endpoints) {
      try {
        const dropped = await this.store.bound(endpoint.name, this.options.maxPendingPerEndpoint, now());
        if (dropped > 0) {
          this.context.metrics.errors.inc({ code: 'webhook_dropped' }, dropped);
          this.context.logger.warn(
            { endpoint: endpoint.name, dropped },
            'webhook queue full; oldest dropped',
          );
        }
        const free = this.options.concurrency - (this.inFlight.get(endpoint.name) ?? 0);
        if (free <= 0) continue;
        const due = await this.store.claimDue(endpoint.name, now(), free, this.options.leaseMs);
        for (const delivery of due) this.track(endpoint, delivery);
        started += due.length;
      } catch (err) {
        this.context.metrics.errors.inc({ code: 'webhook_worker_failed' });
        this.context.logger.warn(
          { err, endpoint: endpoint.name },
          'webhook worker step failed; retried next pass',
        );
      }
    }
    if (now() - this.lastPurge >= PURGE_EVERY_MS) {
      this.lastPurge = now();
      await this.store.purge(now() - this.options.retentionMs).catch((err: unknown) => {
        this.context.logger.warn({ err }, 'webhook purge failed');
      });
    }
    return started;
  }

  /** Waits for the requests in flight (bounded by `timeoutMs`). */
  async settle(): Promise<void> {
    await Promise.allSettled([...this.sending]);
  }

  private track(endpoint: EventEndpoint, delivery: EventDelivery): void {
    this.inFlight.set(endpoint.name, (this.inFlight.get(endpoint.name) ?? 0) + 1);
    const sending = this.deliver(endpoint, delivery)
      .catch((err: unknown) => {
        // The store failed to record the outcome: the claim runs out and the delivery is sent again.
        this.context.logger.warn({ err, eventId: delivery.event.id }, 'webhook outcome not recorded');
      })
      .finally(() => {
        this.inFlight.set(endpoint.name, (this.inFlight.get(endpoint.name) ?? 1) - 1);
        this.sending.delete(sending);
      });
    this.sending.add(sending);
  }

  private async deliver(endpoint: EventEndpoint, delivery: EventDelivery): Promise<void> {
    const { now, timeoutMs, retryBaseMs, retryMaxMs, giveUpAfterMs } = this.options;
    const attempts = delivery.attempts + 1;
    const body = JSON.stringify(delivery.event);
    let status = 0;
    let hint: number | undefined;
    try {
      const response = await fetch(endpoint.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'natter-webhooks',
          // Wall-clock time, not the scheduling clock: the receiver checks it against its own clock.
          [SIGNATURE_HEADER]: signWebhook(body, endpoint.secret),
          [EVENT_HEADERS.id]: delivery.event.id,
          [EVENT_HEADERS.type]: delivery.event.type,
          [EVENT_HEADERS.attempt]: String(attempts),
        },
        body,
        redirect: 'manual',
        signal: AbortSignal.timeout(timeoutMs),
      });
      status = response.status;
      hint = retryAfterMs(response.headers.get('retry-after'), now());
      await response.body?.cancel().catch(() => {});
    } catch {
      status = 0; // refused, reset, timed out: the same as an error answer
    }
    if (status >= 200 && status < 300) {
      await this.store.finish(delivery, 'delivered', attempts, now());
      return;
    }
    const log = { endpoint: endpoint.name, eventId: delivery.event.id, status, attempts };
    if (now() - delivery.createdAt >= giveUpAfterMs) {
      await this.store.finish(delivery, 'gave_up', attempts, now());
      this.context.metrics.errors.inc({ code: 'webhook_gave_up' });
      this.context.logger.warn(log, 'webhook delivery given up; the event stays replayable');
      return;
    }
    const delay = Math.min(retryMaxMs, Math.max(hint ?? 0, retryDelay(attempts, retryBaseMs, retryMaxMs)));
    await this.store.retry(delivery, attempts, now() + delay);
    this.context.metrics.errors.inc({ code: 'webhook_retry' });
    this.context.logger.info({ ...log, retryInMs: delay }, 'webhook delivery failed; retrying');
  }
}
