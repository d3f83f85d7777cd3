import type { PoolConfig } from 'pg';

/** Options of {@link createPostgresStorage}. */
export interface PostgresStorageOptions {
  /** A libpq connection string, e.g. `postgres://natter@db.internal:5432/natter`. */
  connectionString?: string;
  /**
   * Further `pg` pool options (host, user, password, ssl, timeouts, ...). `connectionString` and
   * `maxPoolSize` take precedence over the same settings here; `types` is set by the adapter.
   */
  pool?: Omit<PoolConfig, 'types' | 'max' | 'connectionString'>;
  /**
   * The PostgreSQL schema holding natter's tables; created when missing. Letters, digits and `_`,
   * not starting with a digit, at most 63 characters.
   * @default 'natter'
   */
  schema?: string;
  /**
   * Most connections the adapter opens.
   * @default 10
   */
  maxPoolSize?: number;
  /**
   * `synchronous_commit` for the adapter's writes (`SET LOCAL` in each write transaction). Unset, the
   * server's setting applies (`on` by default: COMMIT returns after the WAL is flushed, so an
   * acknowledged write survives a crash of the database server). `off` acknowledges before the flush
   * (a server crash may lose the last commits, never corrupt or reorder them) for throughput; the
   * `remote_*` values wait for synchronous standbys.
   * @default undefined (the server's setting)
   */
  synchronousCommit?: SynchronousCommit;
  /**
   * How many times a `write()` is attempted when PostgreSQL aborts it for a deadlock or a
   * serialization failure (or a concurrent transaction took a unique key the write checked was free).
   * @default 8
   */
  maxAttempts?: number;
  /**
   * Most `write()` calls committed together in one transaction (group commit). Larger batches share
   * more round trips and WAL flushes; each batch holds its row locks until its COMMIT.
   * @default 256
   */
  maxBatchSize?: number;
  /**
   * Batches run at once, each on its own connection (writes of one channel always share a lane, so
   * they keep their call order; a write without a channel hint waits for all lanes). More lanes can
   * use more of a large server's cores, at the price of smaller batches; on a 2-core machine one lane
   * was faster. Keep it below `maxPoolSize`, which reads share.
   * @default 1
   */
  writeLanes?: number;
}

/** Values of PostgreSQL's `synchronous_commit`. */
export type SynchronousCommit = 'on' | 'off' | 'local' | 'remote_write' | 'remote_apply';

const SYNCHRONOUS_COMMIT: readonly SynchronousCommit[] = [
  'on',
  'off',
  'local',
  'remote_write',
  'remote_apply',
];

/** {@link PostgresStorageOptions} with every default applied. */
export interface ResolvedPostgresOptions {
  poolConfig: PoolConfig;
  schema: string;
  maxAttempts: number;
  maxBatchSize: number;
  writeLanes: number;
  synchronousCommit: SynchronousCommit | undefined;
}

const SCHEMA_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/** Applies the defaults and validates the values. */
export function resolveOptions(options: PostgresStorageOptions): ResolvedPostgresOptions {
  const schema = options.schema ?? 'natter';
  const maxPoolSize = options.maxPoolSize ?? 10;
  const maxAttempts = options.maxAttempts ?? 8;
  const maxBatchSize = options.maxBatchSize ?? 256;
  const writeLanes = options.writeLanes ?? 1;
  if (typeof schema !== 'string' || !SCHEMA_NAME.test(schema)) {
    throw new TypeError(
      'createPostgresStorage: `schema` must be letters, digits and _ (not starting with a digit, at most 63)',
    );
  }
  if (!Number.isInteger(maxPoolSize) || maxPoolSize < 1) {
    throw new TypeError('createPostgresStorage: `maxPoolSize` must be a positive integer');
  }
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1) {
    throw new TypeError('createPostgresStorage: `maxAttempts` must be a positive integer');
  }
  if (!Number.isInteger(maxBatchSize) || maxBatchSize < 1) {
    throw new TypeError('createPostgresStorage: `maxBatchSize` must be a positive integer');
  }
  if (!Number.isInteger(writeLanes) || writeLanes < 1) {
    throw new TypeError('createPostgresStorage: `writeLanes` must be a positive integer');
  }
  const { synchronousCommit } = options;
  if (synchronousCommit !== undefined && !SYNCHRONOUS_COMMIT.includes(synchronousCommit)) {
    throw new TypeError(
      `createPostgresStorage: \`synchronousCommit\` must be one of ${SYNCHRONOUS_COMMIT.join(', ')}`,
    );
  }
  if (options.connectionString !== undefined && typeof options.connectionString !== 'string') {
    throw new TypeError('createPostgresStorage: `connectionString` must be a string');
  }
  const poolConfig: PoolConfig = { ...options.pool, max: maxPoolSize };
  if (options.connectionString !== undefined) poolConfig.connectionString = options.connectionString;
  return { poolConfig, schema, maxAttempts, maxBatchSize, writeLanes, synchronousCommit };
}
