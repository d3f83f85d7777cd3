import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { StorageAdapter } from '@natter/server-core';
import { createSqliteStorage } from '@natter/storage-sqlite';

/** The message store every node of a test cluster shares. */
export type StoreSpec =
  | { kind: 'postgres'; url: string; schema: string }
  | { kind: 'sharded'; urls: string[]; schema: string }
  | { kind: 'sqlite'; path: string };

/** `createPostgresStorage` of `@natter/storage-postgres`, when that package is available. */
export type PostgresFactory = (options: { connectionString: string; schema?: string }) => StorageAdapter;

/** `createShardedPostgresStorage` of `@natter/storage-postgres-sharded`, when that package is available. */
export type ShardedFactory = (options: { shards: string[]; schema?: string }) => StorageAdapter;

/** The PostgreSQL adapters a node can open (each undefined when its package is not there). */
export interface StoreFactories {
  postgres?: PostgresFactory | undefined;
  sharded?: ShardedFactory | undefined;
}

/** Opens an adapter over the shared store (not yet opened: the server opens it). */
export function openStore(spec: StoreSpec, factories: StoreFactories): StorageAdapter {
  if (spec.kind === 'sqlite') return createSqliteStorage({ path: spec.path });
  if (spec.kind === 'sharded') {
    if (!factories.sharded)
      throw new Error('the store is sharded but @natter/storage-postgres-sharded is not available');
    return factories.sharded({ shards: spec.urls, schema: spec.schema });
  }
  if (!factories.postgres)
    throw new Error('the store is PostgreSQL but @natter/storage-postgres is not available');
  return factories.postgres({ connectionString: spec.url, schema: spec.schema });
}

/**
 * Several in-process servers over ONE adapter: each calls open() and close(); only the first open and the
 * last close reach the adapter. (better-sqlite3 is synchronous, so two connections to one file in one
 * process would wait on each other's lock with the event loop blocked; one shared adapter is the
 * in-process stand-in for a shared database. Child processes open the file themselves.)
 */
export function sharedAdapter(adapter: StorageAdapter): () => StorageAdapter {
  let users = 0;
  let opening: Promise<void> | undefined;
  return () => {
    let mine = false;
    return {
      manifest: adapter.manifest,
      accounts: adapter.accounts,
      chat: adapter.chat,
      async open() {
        if (mine) return;
        mine = true;
        users++;
        opening ??= adapter.open();
        await opening;
      },
      async close() {
        if (!mine) return;
        mine = false;
        if (--users === 0) {
          opening = undefined;
          await adapter.close();
        }
      },
    };
  };
}

/** Loads `createPostgresStorage` when `@natter/storage-postgres` is importable; undefined otherwise. */
export async function loadPostgresFactory(): Promise<PostgresFactory | undefined> {
  const specifier = '@natter/storage-postgres';
  try {
    const mod = (await import(/* @vite-ignore */ specifier)) as { createPostgresStorage?: PostgresFactory };
    return typeof mod.createPostgresStorage === 'function' ? mod.createPostgresStorage : undefined;
  } catch {
    return undefined;
  }
}

/** Loads `createShardedPostgresStorage` when `@natter/storage-postgres-sharded` is importable. */
export async function loadShardedFactory(): Promise<ShardedFactory | undefined> {
  const specifier = '@natter/storage-postgres-sharded';
  try {
    const mod = (await import(/* @vite-ignore */ specifier)) as {
      createShardedPostgresStorage?: ShardedFactory;
    };
    return typeof mod.createShardedPostgresStorage === 'function'
      ? mod.createShardedPostgresStorage
      : undefined;
  } catch {
    return undefined;
  }
}

/** A store for one test file: PostgreSQL (own schema) when available, else a SQLite file in a temp dir. */
export interface TestStore {
  spec: StoreSpec;
  factories: StoreFactories;
  /** An adapter for one in-process node. */
  forNode(): StorageAdapter;
  /** Drops the schema (on every server) or deletes the file. */
  cleanup(): Promise<void>;
}

/** A schema name of this test file's own (letters, digits and `_`; unique per process and moment). */
export const schemaFor = (label: string) =>
  `natter_${label.replace(/\W/g, '_')}_${Date.now().toString(36)}${process.pid}`;

export async function createTestStore(label: string, pgUrl: string, pgUp: boolean): Promise<TestStore> {
  const postgres = pgUp ? await loadPostgresFactory() : undefined;
  if (postgres) {
    const schema = schemaFor(label);
    const spec: StoreSpec = { kind: 'postgres', url: pgUrl, schema };
    return {
      spec,
      factories: { postgres },
      forNode: () => openStore(spec, { postgres }),
      cleanup: () => dropSchema(pgUrl, schema),
    };
  }
  if (process.env.NATTER_CLUSTER_STORE === 'postgres') {
    throw new Error(
      'NATTER_CLUSTER_STORE=postgres but @natter/storage-postgres or PostgreSQL is not available',
    );
  }
  const dir = mkdtempSync(join(tmpdir(), `natter-${label}-`));
  const spec: StoreSpec = { kind: 'sqlite', path: join(dir, 'natter.db') };
  const share = sharedAdapter(createSqliteStorage({ path: spec.path }));
  return {
    spec,
    factories: {},
    forNode: share,
    cleanup: async () => rmSync(dir, { recursive: true, force: true }),
  };
}

/**
 * The sharded store over `urls` (one schema of this file's own on every server). Throws when
 * `@natter/storage-postgres-sharded` is missing: callers decide whether to skip first.
 */
export async function createShardedTestStore(label: string, urls: readonly string[]): Promise<TestStore> {
  const sharded = await loadShardedFactory();
  if (!sharded) throw new Error('@natter/storage-postgres-sharded is not available');
  const schema = schemaFor(label);
  const spec: StoreSpec = { kind: 'sharded', urls: [...urls], schema };
  return {
    spec,
    factories: { sharded },
    forNode: () => openStore(spec, { sharded }),
    cleanup: async () => {
      await Promise.all(urls.map((url) => dropSchema(url, schema).catch(() => undefined)));
    },
  };
}

async function dropSchema(url: string, schema: string): Promise<void> {
  const specifier = 'pg';
  const pg = (await import(/* @vite-ignore */ specifier)) as {
    default: { Client: new (o: { connectionString: string }) => PgClient };
  };
  const client = new pg.default.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await client.end();
  }
}

interface PgClient {
  connect(): Promise<void>;
  query(sql: string): Promise<unknown>;
  end(): Promise<void>;
}
