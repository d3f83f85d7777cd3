import { randomBytes } from 'node:crypto';
import { ErrorCode, NatterError } from '@natter/server-core';
import { key } from './keys.js';
import type { BatchOperation, LevelDb } from './staging.js';

/** One step of the layout history. Steps are never edited once released; new ones are appended. */
export interface Migration {
  /** The layout version this step produces: 1, 2, 3, ... in order. */
  version: number;
  /** Why the step exists. */
  description: string;
  /**
   * The operations that bring the previous layout to this one. They are written in one atomic batch
   * together with the version bump, so a crash mid-migration leaves the previous version intact.
   */
  operations(db: LevelDb): Promise<BatchOperation[]>;
}

/** The layout history. Version 1 is the first layout (contract v2): nothing to convert. */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'key layout of contract v2 (see README): users, channels, members, messages, sync, mentions',
    operations: async () => [],
  },
  {
    version: 2,
    description:
      'contract v4: reaction (r!) and mutation-key (x!) keys; sync values may carry a lifecycle entry; messages lifecycle fields',
    // Nothing to convert: the new keys start empty and old values read as they are.
    operations: async () => [],
  },
  {
    version: 3,
    description: 'session revocations (`rv!<subject>`): a new key range, nothing to convert',
    operations: async () => [],
  },
  {
    version: 4,
    description:
      'moderation rows (`md!<key>`: blocks, bans, slow mode, reports), a new key range; revocations indexed by expiry (`rve!<expiresAt>!<subject>`) so expired ones are pruned',
    operations: async (db) => {
      const operations: BatchOperation[] = [];
      for await (const [, value] of db.iterator({ gte: 'rv!', lt: 'rv"' })) {
        const row = value as { subject: string; expiresAt: number };
        operations.push({ type: 'put', key: key.revocationExpiry(row.expiresAt, row.subject), value: 1 });
      }
      return operations;
    },
  },
];

/** The layout version this code writes and understands. */
export const SCHEMA_VERSION = MIGRATIONS.at(-1)!.version;

/**
 * Brings an open store to the newest layout and returns its epoch. A new, empty store gets the newest
 * version and a random epoch in one batch.
 * @throws NatterError STORE_VERSION_UNSUPPORTED when the store's layout is newer than this code
 *   (the store is not modified).
 */
export async function migrate(
  db: LevelDb,
  sync: boolean,
  migrations: readonly Migration[] = MIGRATIONS,
): Promise<string> {
  const newest = migrations.at(-1)?.version ?? 0;
  const stored = (await db.get(key.schemaVersion)) as number | undefined;
  if (stored !== undefined && stored > newest) {
    throw new NatterError(
      ErrorCode.STORE_VERSION_UNSUPPORTED,
      `store layout version ${stored} is newer than this @natter/storage-level supports (${newest})`,
    );
  }
  if (stored === undefined) {
    // A new store: no data to convert, so it starts at the newest layout.
    const epoch = randomBytes(16).toString('hex');
    const operations: BatchOperation[] = [
      { type: 'put', key: key.epoch, value: epoch },
      { type: 'put', key: key.schemaVersion, value: newest },
    ];
    await db.batch(operations, { sync });
    return epoch;
  }
  for (const step of migrations) {
    if (step.version <= stored) continue;
    const operations: BatchOperation[] = [
      ...(await step.operations(db)),
      { type: 'put', key: key.schemaVersion, value: step.version },
    ];
    await db.batch(operations, { sync });
  }
  return (await db.get(key.epoch)) as string;
}
