import type { NatterEvent } from '@natter/protocol';
import type { Logger } from '../observability/logger.js';
import type { NatterMetrics } from '../observability/metrics.js';

/** A page of the retained event log. */
export interface EventPage {
  events: NatterEvent[];
  hasMore: boolean;
}

/**
 * Where the server's events go for the app's backend: `@natter/webhooks` records them in a durable queue
 * and delivers each as a signed webhook. `publish` is called right after the commit that caused the events,
 * in commit order; it must not block or throw, and should have recorded them durably when it returns.
 */
export interface EventSink {
  publish(events: readonly NatterEvent[]): void;
  /** Events after `after` (an event id), oldest first: the replay behind `GET /v1/server/events`. */
  list?(after: string | undefined, limit: number): Promise<EventPage>;
  /** Starts background work (delivery); called by the server's `start()`. */
  start(): Promise<void>;
  /** Stops background work, keeping what is queued for the next start. */
  stop(): Promise<void>;
}

/** What an event sink may use of the running server. */
export interface EventContext {
  logger: Logger;
  metrics: NatterMetrics;
}

/** Builds the event sink once the server's parts exist. */
export type EventSinkFactory = (context: EventContext) => EventSink;
