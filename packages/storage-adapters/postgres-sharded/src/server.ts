import type { StorageAdapter } from '@natter/server-core';
import { createPostgresStorage } from '@natter/storage-postgres';
import { pgTypes, quoteIdentifier } from '@natter/storage-postgres/internals';
import pg from 'pg';
import { asUnavailable, serverLabel } from './errors.js';
import type { ResolvedShardedOptions } from './options.js';

/**
 * One PostgreSQL server of the sharded store: the PostgreSQL adapter on it (channels, messages,
 * members, accounts, group commit) and a small pool for the sharded store's own statements.
 */
export class ShardServer {
  readonly label: string;
  /** The schema as a quoted identifier, for the sharded store's SQL. */
  readonly s: string;
  readonly adapter: StorageAdapter;
  private pool: pg.Pool | undefined;

  constructor(
    readonly index: number,
    readonly url: string,
    options: ResolvedShardedOptions,
  ) {
    this.label = serverLabel(index, url);
    this.s = quoteIdentifier(options.schema);
    this.adapter = createPostgresStorage({
      connectionString: url,
      schema: options.schema,
      maxPoolSize: options.maxPoolSize,
      pool: { connectionTimeoutMillis: 5_000 },
      ...(options.synchronousCommit !== undefined ? { synchronousCommit: options.synchronousCommit } : {}),
    });
  }

  /** Opens the adapter (migrating the schema) and the sharded store's pool. */
  async open(): Promise<pg.Pool> {
    await this.guard(() => this.adapter.open());
    const pool = new pg.Pool({
      connectionString: this.url,
      max: 4,
      connectionTimeoutMillis: 5_000,
      types: pgTypes,
    });
    // A broken idle connection (server restart) is dropped; the next query opens a new one.
    pool.on('error', () => undefined);
    this.pool = pool;
    return pool;
  }

  async close(): Promise<void> {
    const pool = this.pool;
    this.pool = undefined;
    try {
      await this.adapter.close();
    } finally {
      await pool?.end();
    }
  }

  /** Runs `fn`; a connection error becomes `NATTER_UNAVAILABLE` naming this server. */
  async guard<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      throw asUnavailable(error, this.label);
    }
  }

  /** One statement on the sharded store's pool. */
  query<R extends pg.QueryResultRow>(text: string, values: unknown[] = []): Promise<R[]> {
    return this.guard(async () => {
      const pool = this.pool;
      if (!pool) throw new Error(`storage server ${this.label} is closed`);
      return (await pool.query<R>(text, values)).rows;
    });
  }

  /** `fn` in one transaction on a client of the sharded store's pool. */
  transaction<T>(fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    return this.guard(async () => {
      const pool = this.pool;
      if (!pool) throw new Error(`storage server ${this.label} is closed`);
      const client = await pool.connect();
      let broken = false;
      // A server killed while the client is checked out makes it emit 'error': without a listener
      // that would be an uncaught exception. The query in flight rejects on its own.
      const onError = () => {
        broken = true;
      };
      client.on('error', onError);
      try {
        await client.query('BEGIN');
        const value = await fn(client);
        await client.query('COMMIT');
        return value;
      } catch (error) {
        await client.query('ROLLBACK').catch(() => {
          broken = true;
        });
        throw error;
      } finally {
        client.off('error', onError);
        client.release(broken);
      }
    });
  }
}
