import { defineStorage, STORAGE_CONTRACT_VERSION, type StorageAdapter } from '@natter/server-core';
import { DirectKeys } from './direct-keys.js';
import { ShardMapError } from './errors.js';
import { SourceFanout } from './fanout.js';
import { resolveShardedOptions, type ShardedPostgresStorageOptions } from './options.js';
import { prepareServer, SHARDED_SCHEMA_VERSION } from './schema.js';
import { ShardServer } from './server.js';
import { ShardMap } from './shard-map.js';
import { ShardedChatStore } from './sharded-chat.js';
import type { ShardedTxDeps } from './sharded-tx.js';
import { WriteGate } from './write-gate.js';

/** The server holding accounts, sessions, revocations and moderation rows outside channels. */
const HOME = 0;

/**
 * Creates a {@link StorageAdapter} sharded over several PostgreSQL servers. Each server runs the
 * PostgreSQL adapter's schema; ids hash to virtual shards mapped onto servers (the shard map, stored
 * on every server and compared at each open). A channel and everything of it (messages, members,
 * idempotency keys, reactions, moderation keys of the channel) live on the channel's server; a
 * user's sync log on the user's server; accounts on server 0 (docs/decisions.md).
 *
 * A write commits on its channel's server: the message, its key, the recipients' entries in that
 * server's local log and their outbox rows, in one transaction (the acknowledgement). The fan-out
 * then copies each entry into its user's log on the user's server, exactly once (a cursor per source
 * server and user, advanced in the copying transaction); `write()` resolves after the fan-out of its
 * own entries, with the users' positions. A worker in every process drains outbox rows nobody else
 * drains (after a crash, or a server that was down), backing off while a server is unreachable.
 * Calls that need an unreachable server reject with `NATTER_UNAVAILABLE` and a retry-after; others
 * go on.
 *
 * @throws ShardMapError from `open()` when a server's stored shard map disagrees with the options.
 *
 * @example
 * ```ts
 * const storage = createShardedPostgresStorage({
 *   shards: ['postgres://natter@pg-0/natter', 'postgres://natter@pg-1/natter', 'postgres://natter@pg-2/natter'],
 * });
 * await storage.open();
 * ```
 */
export function createShardedPostgresStorage(options: ShardedPostgresStorageOptions): StorageAdapter {
  const resolved = resolveShardedOptions(options);
  const map = new ShardMap(resolved.map);
  const servers = resolved.shards.map((url, index) => new ShardServer(index, url, resolved));
  let chat: ShardedChatStore | undefined;
  const fanouts: SourceFanout[] = servers.map(
    (source) =>
      new SourceFanout(
        source,
        servers,
        map,
        { pollMs: resolved.fanoutPollMs, maxBackoffMs: resolved.maxBackoffMs },
        () => chat?.lateEntries,
      ),
  );
  const deps: ShardedTxDeps = {
    servers,
    map,
    fanouts,
    directKeys: new DirectKeys(servers, map, Date.now),
    gate: new WriteGate(),
    home: HOME,
  };
  const store = new ShardedChatStore(deps, () => servers[HOME]!.adapter.chat.epoch());
  chat = store;
  return defineStorage({
    manifest: {
      name: 'postgres-sharded',
      contractVersion: STORAGE_CONTRACT_VERSION,
      schemaVersion: SHARDED_SCHEMA_VERSION,
      capabilities: { search: true, multiProcess: true, persistent: true, lifecycle: true, moderation: true },
    },
    async open() {
      const opened: ShardServer[] = [];
      try {
        const pools = await Promise.all(
          servers.map(async (server) => {
            const pool = await server.open();
            opened.push(server);
            return pool;
          }),
        );
        const prepared = await Promise.allSettled(
          servers.map((server, i) =>
            prepareServer(pools[i]!, resolved.schema, i, server.url, resolved.map, servers.length),
          ),
        );
        const refused = prepared.flatMap((p) =>
          p.status === 'rejected' && p.reason instanceof ShardMapError ? [p.reason] : [],
        );
        if (refused.length > 0) {
          throw new ShardMapError(
            refused.map((e) => e.message).join('; '),
            refused.flatMap((e) => e.servers),
          );
        }
        const failed = prepared.find((p) => p.status === 'rejected');
        if (failed) throw (failed as PromiseRejectedResult).reason;
      } catch (error) {
        await Promise.allSettled(opened.map((server) => server.close()));
        throw error;
      }
      for (const fanout of fanouts) fanout.start();
      return {
        accounts: servers[HOME]!.adapter.accounts,
        chat: store,
        async close() {
          await Promise.allSettled(fanouts.map((f) => f.stop()));
          await Promise.all(servers.map((server) => server.close()));
        },
      };
    },
  });
}
