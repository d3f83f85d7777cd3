/**
 * `@natter/webhooks`: event webhooks for app backends. `createEventWebhooks` records every event (new,
 * edited and deleted messages, membership changes, new channels, reports) in a durable queue right after its
 * commit and POSTs it, signed, to the app's endpoints: at-least-once with the event's id for dedupe,
 * retried with backoff, bounded per endpoint, replayable. Receivers check requests with `verifyEvent` from
 * `@natter/server-client`.
 * @packageDocumentation
 */
export { retryDelay } from './dispatcher.js';
export type { DeliveryOutcome, EventDelivery, EventStore } from './event-store.js';
export { createEventWebhooks, type EventWebhooks } from './event-webhooks.js';
export type { EventEndpoint, EventWebhooksOptions } from './options.js';
export {
  createSqliteEventStore,
  EVENT_SCHEMA_VERSION,
  type SqliteEventStoreOptions,
} from './sqlite-store.js';
