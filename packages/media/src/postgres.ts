/**
 * The PostgreSQL media store, for clusters: every chat node records uploads and attachments in one place.
 * `import { createPostgresMediaStore } from '@natter/media/postgres'` (needs the `pg` package), then
 * `createMedia({ blobs, store: createPostgresMediaStore({ connectionString }) })`.
 * @packageDocumentation
 */
export {
  createPostgresMediaStore,
  POSTGRES_MEDIA_SCHEMA_VERSION,
  type PostgresMediaStoreOptions,
} from './postgres-store.js';
