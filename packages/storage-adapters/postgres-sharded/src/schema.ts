import { quoteIdentifier } from '@natter/storage-postgres/internals';
import type { Pool } from 'pg';
import { ShardMapError, serverLabel } from './errors.js';

/**
 * The sharded store's own tables, next to the PostgreSQL adapter's in the same schema of every server
 * (the adapter's tables hold channels, messages, members and each server's local sync logs, which
 * serve as the outbox; these hold the shard map, the users' sync logs and the fan-out's state).
 *
 * - `shard_self`: which server this database is (its index) and the map's size.
 * - `shard_map`: virtual shard -> server index, identical on every server.
 * - `shard_sync_heads` / `shard_sync_log`: each user's sync log on the user's server; an entry names
 *   its source (server index, position in that server's local log), unique per user: the fan-out's
 *   idempotency key.
 * - `shard_fanout_cursors`: per (source server, user), the last local position copied; advanced in
 *   the transaction that appends the copies, so a copy is made exactly once.
 * - `shard_outbox`: per user, the newest local position not yet known copied; filled by a trigger in
 *   the transaction that appends local sync entries, removed once the fan-out passed it.
 * - `shard_direct_keys`: direct key -> channel id, on the key's server (a direct channel is found by
 *   its pair of users before its id is known).
 */
export const SHARDED_SCHEMA_VERSION = 1;

const ddl = (s: string) => `
  CREATE TABLE IF NOT EXISTS ${s}.shard_self (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    server_index integer NOT NULL,
    server_count integer NOT NULL,
    virtual_shards integer NOT NULL,
    schema_version integer NOT NULL
  );
  CREATE TABLE IF NOT EXISTS ${s}.shard_map (
    virtual_shard integer PRIMARY KEY,
    server_index integer NOT NULL
  );
  CREATE TABLE IF NOT EXISTS ${s}.shard_sync_heads (
    user_id text PRIMARY KEY,
    head bigint NOT NULL
  );
  CREATE TABLE IF NOT EXISTS ${s}.shard_sync_log (
    user_id text NOT NULL,
    pos bigint NOT NULL,
    source integer NOT NULL,
    source_pos bigint NOT NULL,
    channel_id text NOT NULL,
    seq bigint NOT NULL,
    entry text,
    PRIMARY KEY (user_id, pos),
    UNIQUE (user_id, source, source_pos)
  );
  CREATE TABLE IF NOT EXISTS ${s}.shard_fanout_cursors (
    source integer NOT NULL,
    user_id text NOT NULL,
    copied bigint NOT NULL,
    PRIMARY KEY (source, user_id)
  );
  CREATE TABLE IF NOT EXISTS ${s}.shard_outbox (
    user_id text PRIMARY KEY,
    upto bigint NOT NULL
  );
  CREATE TABLE IF NOT EXISTS ${s}.shard_direct_keys (
    direct_key text PRIMARY KEY,
    channel_id text NOT NULL,
    claimed_at bigint NOT NULL
  );
  -- One outbox row per recipient, in the transaction of the append (a statement trigger: one upsert per
  -- statement of the adapter's append functions, rows locked in user order).
  CREATE OR REPLACE FUNCTION ${s}.shard_outbox_add() RETURNS trigger LANGUAGE plpgsql AS $fn$
  BEGIN
    INSERT INTO ${s}.shard_outbox AS o (user_id, upto)
      SELECT user_id, max(pos) FROM added GROUP BY user_id ORDER BY user_id
      ON CONFLICT (user_id) DO UPDATE SET upto = GREATEST(o.upto, excluded.upto);
    RETURN NULL;
  END
  $fn$;
  CREATE OR REPLACE TRIGGER shard_outbox_add AFTER INSERT ON ${s}.sync_log
    REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION ${s}.shard_outbox_add();
  -- The fan-out's copy into users' logs on this server as one statement (copy.ts): the local entries
  -- read from the source (parallel arrays, ordered by user and local position) are appended for the
  -- users whose cursor row it locks, after that cursor, with the users' next positions; the cursors
  -- advance in the same transaction. Cursors are locked in user order (SKIP LOCKED for the worker).
  CREATE OR REPLACE FUNCTION ${s}.shard_copy_in(
    p_source integer, p_users text[], p_source_pos bigint[], p_channels text[], p_seqs bigint[],
    p_entries text[], p_skip_locked boolean
  ) RETURNS TABLE (user_id text, source_pos bigint, pos bigint)
  LANGUAGE plpgsql AS $fn$
  #variable_conflict use_column
  DECLARE
    v_locked text[];
  BEGIN
    INSERT INTO ${s}.shard_fanout_cursors (source, user_id, copied)
      SELECT p_source, d.u, 0 FROM (SELECT DISTINCT x AS u FROM unnest(p_users) AS x) d ORDER BY d.u
      ON CONFLICT DO NOTHING;
    IF p_skip_locked THEN
      SELECT array_agg(l.user_id) INTO v_locked FROM (
        SELECT c.user_id FROM ${s}.shard_fanout_cursors c
         WHERE c.source = p_source AND c.user_id = ANY (p_users)
         ORDER BY c.user_id FOR UPDATE SKIP LOCKED) l;
    ELSE
      SELECT array_agg(l.user_id) INTO v_locked FROM (
        SELECT c.user_id FROM ${s}.shard_fanout_cursors c
         WHERE c.source = p_source AND c.user_id = ANY (p_users)
         ORDER BY c.user_id FOR UPDATE) l;
    END IF;
    RETURN QUERY
    WITH pending AS (
      SELECT x.u, x.sp, x.c, x.q, x.e
        FROM unnest(p_users, p_source_pos, p_channels, p_seqs, p_entries) AS x(u, sp, c, q, e)
        JOIN ${s}.shard_fanout_cursors cur ON cur.source = p_source AND cur.user_id = x.u AND x.sp > cur.copied
       WHERE x.u = ANY (v_locked)
    ), counts AS (
      SELECT u, count(*) AS n, max(sp) AS upto FROM pending GROUP BY u
    ), heads AS (
      INSERT INTO ${s}.shard_sync_heads AS h (user_id, head)
        SELECT u, n FROM counts ORDER BY u
        ON CONFLICT (user_id) DO UPDATE SET head = h.head + excluded.head
        RETURNING h.user_id, h.head
    ), numbered AS (
      SELECT p.u, p.sp, p.c, p.q, p.e,
             hd.head - cn.n + row_number() OVER (PARTITION BY p.u ORDER BY p.sp) AS np
        FROM pending p JOIN counts cn ON cn.u = p.u JOIN heads hd ON hd.user_id = p.u
    ), copied AS (
      INSERT INTO ${s}.shard_sync_log (user_id, pos, source, source_pos, channel_id, seq, entry)
        SELECT u, np, p_source, sp, c, q, e FROM numbered ORDER BY u, np
        RETURNING shard_sync_log.user_id, shard_sync_log.source_pos, shard_sync_log.pos
    ), advanced AS (
      UPDATE ${s}.shard_fanout_cursors cur SET copied = cn.upto
        FROM counts cn WHERE cur.source = p_source AND cur.user_id = cn.u
        RETURNING 1
    )
    SELECT k.user_id, k.source_pos, k.pos FROM copied k;
  END
  $fn$;
`;

/**
 * Creates the sharded tables on one server (after the adapter's migrations), then writes the shard
 * map when the server has none or compares it: a server that is another index's database, or whose
 * map differs from `map`, is refused. Serialised between processes by an advisory lock.
 */
export async function prepareServer(
  pool: Pool,
  schema: string,
  index: number,
  url: string,
  map: readonly number[],
  serverCount: number,
): Promise<void> {
  const s = quoteIdentifier(schema);
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`natter-shard:${schema}`]);
    await client.query(ddl(s));
    const self = await client.query<{ server_index: number; server_count: number; virtual_shards: number }>(
      `SELECT server_index, server_count, virtual_shards FROM ${s}.shard_self`,
    );
    const label = serverLabel(index, url);
    if (self.rows.length === 0) {
      await client.query(
        `INSERT INTO ${s}.shard_self (server_index, server_count, virtual_shards, schema_version)
         VALUES ($1, $2, $3, $4)`,
        [index, serverCount, map.length, SHARDED_SCHEMA_VERSION],
      );
      await client.query(
        `INSERT INTO ${s}.shard_map (virtual_shard, server_index)
         SELECT v - 1, server FROM unnest($1::integer[]) WITH ORDINALITY AS m(server, v)`,
        [map],
      );
    } else {
      const stored = self.rows[0]!;
      if (stored.server_index !== index) {
        throw new ShardMapError(
          `shard map: server ${label} holds the database of server #${stored.server_index} (the order of \`shards\` differs between nodes?)`,
          [label],
        );
      }
      const rows = await client.query<{ virtual_shard: number; server_index: number }>(
        `SELECT virtual_shard, server_index FROM ${s}.shard_map ORDER BY virtual_shard`,
      );
      const differs = rows.rows.length !== map.length || rows.rows.some((r, v) => map[v] !== r.server_index);
      if (differs || stored.server_count !== serverCount) {
        const first = rows.rows.findIndex((r, v) => map[v] !== r.server_index);
        throw new ShardMapError(
          `shard map: server ${label} stores ${rows.rows.length} virtual shards on ${stored.server_count} servers` +
            (first >= 0 ? ` (virtual shard ${first} on server #${rows.rows[first]!.server_index})` : '') +
            `, the configuration ${map.length} on ${serverCount}` +
            (first >= 0 ? ` (virtual shard ${first} on server #${map[first]})` : ''),
          [label],
        );
      }
    }
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}
