/**
 * The PostgreSQL event store, for clusters: every chat node records its events into one log and delivery
 * queue. `import { createPostgresEventStore } from '@natter/webhooks/postgres'` (needs the `pg` package),
 * then `createEventWebhooks({ store: createPostgresEventStore({ connectionString }), endpoints })`.
 * @packageDocumentation
 */
export {
  createPostgresEventStore,
  POSTGRES_EVENT_SCHEMA_VERSION,
  type PostgresEventStoreOptions,
} from './postgres-store.js';
