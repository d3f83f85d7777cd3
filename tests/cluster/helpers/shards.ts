import pg from 'pg';

/**
 * Looks into the sharded store's servers from outside, the way an operator would with psql: which
 * channels a server holds, how many outbox rows wait. Each call opens and closes its own connection.
 */
export async function onServer<T extends pg.QueryResultRow>(
  url: string,
  sql: string,
  params: unknown[] = [],
): Promise<T[]> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return (await client.query<T>(sql, params)).rows;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * The sharded store's default shard map over `servers` servers (256 virtual shards, virtual shard v on
 * server v mod servers), from the package's own `ShardMap`: where a channel or a user lives.
 */
export async function defaultShardMap(servers: number): Promise<{ serverOf(id: string): number }> {
  const specifier = '@natter/storage-postgres-sharded';
  const { ShardMap } = (await import(/* @vite-ignore */ specifier)) as {
    ShardMap: new (map: number[]) => { serverOf(id: string): number };
  };
  return new ShardMap(Array.from({ length: 256 }, (_, v) => v % servers));
}

/** Ids of the channels whose rows live on the server at `url`. */
export async function channelsOn(url: string, schema: string): Promise<Set<string>> {
  const rows = await onServer<{ id: string }>(url, `SELECT id FROM "${schema}".channels`);
  return new Set(rows.map((r) => r.id));
}

/**
 * Outbox rows not yet fanned out, on every server: one per (source server, recipient) with local sync
 * entries the recipient's own log does not have yet (`shard_outbox`, filled in the transaction of the
 * send and removed once the fan-out passed it).
 */
export async function outboxBacklog(urls: readonly string[], schema: string): Promise<number> {
  return sumOver(urls, `SELECT count(*)::int AS n FROM "${schema}".shard_outbox`);
}

/** Messages stored on every server (each is on its channel's server only). */
export async function messagesStored(urls: readonly string[], schema: string): Promise<number> {
  return sumOver(urls, `SELECT count(*)::int AS n FROM "${schema}".messages`);
}

/** Ids of the text messages stored for `channels`, from every server (the record of what committed). */
export async function textIdsOn(
  urls: readonly string[],
  schema: string,
  channels: readonly string[],
): Promise<Array<{ id: string; channelId: string }>> {
  const rows = await Promise.all(
    urls.map((url) =>
      onServer<{ id: string; channel_id: string }>(
        url,
        `SELECT id, channel_id FROM "${schema}".messages WHERE channel_id = ANY($1) AND kind = 'text'`,
        [channels],
      ),
    ),
  );
  return rows.flat().map((r) => ({ id: r.id, channelId: r.channel_id }));
}

async function sumOver(urls: readonly string[], sql: string): Promise<number> {
  const counts = await Promise.all(urls.map((url) => onServer<{ n: number }>(url, sql)));
  return counts.reduce((sum, rows) => sum + (rows[0]?.n ?? 0), 0);
}

/**
 * Holds `LOCK TABLE ... IN EXCLUSIVE MODE` on the users' sync logs (`shard_sync_log`) of every server:
 * reads go on (a device's `sync`), but the fan-out cannot append, so every committed send stays in its
 * channel server's outbox until {@link SyncLogFreeze.release}. The fan-out stalls exactly between commit
 * and fan-out, with no hook in the code under test.
 */
export interface SyncLogFreeze {
  release(): Promise<void>;
}

export async function freezeSyncLogs(urls: readonly string[], schema: string): Promise<SyncLogFreeze> {
  const clients = await Promise.all(
    urls.map(async (url) => {
      const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
      client.on('error', () => undefined);
      await client.connect();
      await client.query('BEGIN');
      await client.query(`LOCK TABLE "${schema}".shard_sync_log IN EXCLUSIVE MODE`);
      return client;
    }),
  );
  let released = false;
  return {
    async release() {
      if (released) return;
      released = true;
      await Promise.all(
        clients.map(async (c) => {
          await c.query('ROLLBACK').catch(() => undefined);
          await c.end().catch(() => undefined);
        }),
      );
    },
  };
}
