/** Resolved by the child-process bundler to `@natter/storage-postgres`'s source, or to a stub without it. */
declare module 'natter-test:postgres' {
  import type { PostgresFactory } from './storage.js';
  export const createPostgresStorage: PostgresFactory | undefined;
}

/** Resolved to `@natter/storage-postgres-sharded`'s source, or to a stub without it. */
declare module 'natter-test:postgres-sharded' {
  import type { ShardedFactory } from './storage.js';
  export const createShardedPostgresStorage: ShardedFactory | undefined;
}
