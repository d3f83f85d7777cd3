import type { NatterEvent } from '@natter/protocol';
import type { EventPage } from '@natter/server-core';

/** One event owed to one endpoint. */
export interface EventDelivery {
  event: NatterEvent;
  /** The endpoint's configured name. */
  endpoint: string;
  /** Attempts made so far. */
  attempts: number;
  /** When it was first recorded, ms since the epoch: deliveries older than the give-up age are not retried. */
  createdAt: number;
}

/** How a delivery ended. */
export type DeliveryOutcome = 'delivered' | 'gave_up' | 'dropped';

/**
 * The durable side of event webhooks, as a port: the event log (kept for replay) and one delivery per
 * (event, endpoint). Work is claimed as in push's `PushStore`: `claimDue` hides each returned delivery from
 * other callers for `leaseMs` unless it is settled first, so a crash holding claims loses nothing. Each
 * method is atomic. The SQLite adapter is the default; a store shared by many nodes can implement the same.
 *
 * It is not push's `PushStore`: push collapses what is owed per (user, channel) into one notification, while
 * every event must reach every endpoint on its own, in order of ids, and stay listable for replay.
 */
export interface EventStore {
  /** Adapter name, e.g. `sqlite`. */
  readonly name: string;
  /** Opens (creating and migrating when needed). */
  open(): Promise<void>;
  close(): Promise<void>;
  /**
   * Records events and one delivery per (event, endpoint that wants it), atomically. The SQLite adapter does
   * it synchronously within the call, so it is on disk before the call returns.
   */
  append(
    events: readonly NatterEvent[],
    endpointsOf: (event: NatterEvent) => readonly string[],
    now: number,
  ): Promise<void>;
  /** Events with an id after `after`, by id, at most `limit`. */
  list(after: string | undefined, limit: number): Promise<EventPage>;
  /** An endpoint's due deliveries, oldest event first, claimed for `leaseMs`. */
  claimDue(endpoint: string, now: number, limit: number, leaseMs: number): Promise<EventDelivery[]>;
  /** Settles a delivery for good. */
  finish(delivery: EventDelivery, outcome: DeliveryOutcome, attempts: number, now: number): Promise<void>;
  /** Schedules the next attempt and releases the claim. */
  retry(delivery: EventDelivery, attempts: number, dueAt: number): Promise<void>;
  /**
   * Keeps at most `maxPending` unsettled deliveries for an endpoint by settling the oldest as `dropped`
   * (their events stay in the log for replay). Returns how many were dropped.
   */
  bound(endpoint: string, maxPending: number, now: number): Promise<number>;
  /** Deletes settled deliveries and events older than `before` that no endpoint still waits for. */
  purge(before: number): Promise<void>;
  /** Events in the log, and unsettled deliveries per endpoint. */
  counts(): Promise<{ events: number; pending: Record<string, number> }>;
}
