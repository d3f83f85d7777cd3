/**
 * The PostgreSQL push store, for clusters: every chat node shares one queue.
 * `import { createPostgresPushStore } from '@natter/push/postgres'` (needs the `pg` package).
 * @packageDocumentation
 */
export { createPostgresPushStore, type PostgresPushStoreOptions } from './store/postgres.js';
