import { runStorageConformance, type StorageFactory } from '@natter/storage-conformance';
import { afterAll, describe } from 'vitest';
import { createShardedPostgresStorage } from '../src/index.js';
import { dropSchemas, SHARD_URLS, shardSuitesRun, uniqueSchema } from './shards.js';

if (await shardSuitesRun()) {
  /** Drops in flight; each settles with its error (if any), reported after the suite. */
  const dropping: Array<Promise<unknown>> = [];
  afterAll(async () => {
    const errors = (await Promise.all(dropping)).filter((e) => e !== undefined);
    if (errors.length > 0) throw errors[0];
  });
  const factory: StorageFactory = async () => {
    const schema = uniqueSchema();
    const create = () => createShardedPostgresStorage({ shards: SHARD_URLS, schema, maxPoolSize: 4 });
    return {
      adapter: create(),
      reopen: async () => create(),
      cleanup: async () => {
        dropping.push(
          dropSchemas(schema).then(
            () => undefined,
            (e: unknown) => e,
          ),
        );
      },
    };
  };
  runStorageConformance({ name: `postgres-sharded on ${SHARD_URLS.length} servers`, factory });
} else {
  describe.skip('storage conformance: postgres-sharded (NATTER_PG_SHARD_URLS unreachable, see the warning)', () => {});
}
