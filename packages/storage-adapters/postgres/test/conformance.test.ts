import {
  runCheck,
  runStorageConformance,
  type StorageFactory,
  storageChecks,
  withoutAppendChecked,
} from '@natter/storage-conformance';
import { afterAll, describe, it } from 'vitest';
import { createPostgresStorage } from '../src/index.js';
import { migrate } from '../src/schema/migrations.js';
import { adminPool, dropSchema, PG_URL, pgSuitesRun, uniqueSchema } from './pg.js';

if (await pgSuitesRun()) {
  const admin = adminPool();
  // Every test gets its own new schema. Creating one (DDL, fsync) and dropping one take a while, so
  // the next schema is migrated while a test runs and drops finish in the background; the adapter's
  // own open() then finds its schema current (migrations from empty are covered by storage.test.ts).
  const ready: Array<Promise<string>> = [];
  /** Drops in flight; each settles with its error (if any), reported after the suite. */
  const dropping: Array<Promise<unknown>> = [];
  const drop = (schema: string) =>
    dropping.push(
      dropSchema(admin, schema).then(
        () => undefined,
        (e: unknown) => e,
      ),
    );
  const prepare = async () => {
    const schema = uniqueSchema();
    await migrate(admin, schema);
    return schema;
  };
  afterAll(async () => {
    for (const schema of await Promise.all(ready.splice(0))) drop(schema);
    const errors = (await Promise.all(dropping)).filter((e) => e !== undefined);
    await admin.end();
    if (errors.length > 0) throw errors[0];
  });
  const factoryWith =
    (writeLanes: number): StorageFactory =>
    async () => {
      const next = ready.shift() ?? prepare();
      ready.push(prepare());
      const schema = await next;
      const create = () =>
        createPostgresStorage({ connectionString: PG_URL, schema, maxPoolSize: 8, writeLanes });
      return {
        adapter: create(),
        reopen: async () => create(),
        cleanup: async () => {
          drop(schema);
        },
      };
    };
  const factory = factoryWith(1);
  runStorageConformance({ name: 'postgres', factory });
  // The adapter sends through appendChecked; the same checks through the core's own path on the same
  // store hold both to one contract.
  // Several lanes run batches of different channels at once; order and gap-freedom must still hold.
  describe('concurrency and sends on postgres with three write lanes', () => {
    const checks = Object.values(storageChecks).filter(
      (c) => c.group === 'concurrency' || c.group === 'send (ChatService)',
    );
    for (const check of checks) {
      it(check.title, async () => {
        await runCheck(factoryWith(3), check);
      });
    }
  });
  describe('send (ChatService) on postgres without appendChecked (the core path)', () => {
    for (const check of Object.values(storageChecks).filter((c) => c.group === 'send (ChatService)')) {
      it(check.title, async () => {
        await runCheck(withoutAppendChecked(factory), check);
      });
    }
  });
} else {
  describe.skip('storage conformance: postgres (PostgreSQL unreachable, see the warning)', () => {});
}
