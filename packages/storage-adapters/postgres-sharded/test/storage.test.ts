import { ErrorCode } from '@natter/server-core';
import { createPostgresStorage } from '@natter/storage-postgres';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { createShardedPostgresStorage, ShardMap, ShardMapError } from '../src/index.js';
import { TcpRelay } from './proxy.js';
import { dropSchemas, SHARD_URLS, shardSuitesRun, uniqueSchema } from './shards.js';

/** Ids whose shard is `server` (the map of `servers` servers, 256 virtual shards). */
function idsOn(server: number, prefix: string, count: number, servers = SHARD_URLS.length): string[] {
  const map = new ShardMap(Array.from({ length: 256 }, (_, v) => v % servers));
  const ids: string[] = [];
  for (let i = 0; ids.length < count; i++)
    if (map.serverOf(`${prefix}${i}`) === server) ids.push(`${prefix}${i}`);
  return ids;
}

async function rows<R extends pg.QueryResultRow>(
  url: string,
  text: string,
  values: unknown[] = [],
): Promise<R[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<R>(text, values)).rows;
  } finally {
    await client.end();
  }
}

/** Waits for `check` to hold, polling (generous bound: the machine may be loaded). */
async function eventually(check: () => Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

if (await shardSuitesRun()) {
  const schemas: string[] = [];
  const schema = () => {
    const name = uniqueSchema();
    schemas.push(name);
    return name;
  };
  afterAll(async () => {
    await Promise.all(schemas.map(dropSchemas));
  });

  describe('sharded store: placement and shard map', () => {
    it('keeps a channel with its messages on its server and a user log on the user server', async () => {
      const s = schema();
      const store = createShardedPostgresStorage({ shards: SHARD_URLS, schema: s, maxPoolSize: 3 });
      await store.open();
      try {
        const [channel] = idsOn(0, 'c_', 1);
        const [alice] = idsOn(1, 'u_a', 1);
        const [bob] = idsOn(2, 'u_b', 1);
        await store.chat.write(async (tx) => {
          await tx.insertChannel({
            id: channel!,
            kind: 'group',
            name: 'g',
            createdBy: alice!,
            createdAt: 1,
            directKey: null,
          });
          for (const userId of [alice!, bob!]) {
            await tx.upsertMember({
              channelId: channel!,
              userId,
              role: 'member',
              joinedAt: 1,
              joinedSeq: 1,
              readSeq: 0,
              deliveredSeq: 0,
            });
          }
        });
        const appended = await store.chat.write(
          (tx) =>
            tx.appendMessage(
              {
                id: 'm_1',
                channelId: channel!,
                senderId: alice!,
                clientMsgId: 'k1',
                kind: 'text',
                text: 'hi',
                mentions: [],
                system: null,
                createdAt: 2,
              },
              [alice!, bob!],
            ),
          { channelId: channel! },
        );
        expect(appended.positions).toEqual([
          { userId: alice, pos: 1 },
          { userId: bob, pos: 1 },
        ]);
        const messagesOn = await Promise.all(
          SHARD_URLS.map((url) =>
            rows(url, `SELECT id FROM "${s}".messages WHERE channel_id = $1`, [channel]),
          ),
        );
        expect(messagesOn.map((r) => r.length)).toEqual([1, 0, 0]);
        const logsOn = await Promise.all(
          SHARD_URLS.map((url) =>
            rows<{ user_id: string }>(url, `SELECT user_id FROM "${s}".shard_sync_log ORDER BY user_id`),
          ),
        );
        expect(logsOn.map((r) => r.map((x) => x.user_id))).toEqual([[], [alice], [bob]]);
        // Nothing left in the outbox once the write returned.
        expect(await rows(SHARD_URLS[0]!, `SELECT * FROM "${s}".shard_outbox`)).toEqual([]);
        const [entry] = await store.chat.readSync(bob!, 0, 10);
        expect(entry).toMatchObject({ pos: 1, kind: 'message', message: { id: 'm_1', text: 'hi' } });
      } finally {
        await store.close();
      }
    });

    it('refuses to open on a shard map that differs from the configuration, naming the servers', async () => {
      const s = schema();
      const first = createShardedPostgresStorage({ shards: SHARD_URLS, schema: s, maxPoolSize: 3 });
      await first.open();
      await first.close();
      const moved = Array.from({ length: 256 }, (_, v) =>
        v === 7 ? (v + 1) % SHARD_URLS.length : v % SHARD_URLS.length,
      );
      const differing = createShardedPostgresStorage({
        shards: SHARD_URLS,
        schema: s,
        map: moved,
        maxPoolSize: 3,
      });
      const refusal = await differing.open().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(refusal).toBeInstanceOf(ShardMapError);
      expect((refusal as ShardMapError).servers).toHaveLength(SHARD_URLS.length);
      expect((refusal as ShardMapError).message).toContain('virtual shard 7');
      // The servers in another order: each server is another index's database.
      const reordered = createShardedPostgresStorage({
        shards: [...SHARD_URLS].reverse(),
        schema: s,
        maxPoolSize: 3,
      });
      const swapped = await reordered.open().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(swapped).toBeInstanceOf(ShardMapError);
      expect((swapped as ShardMapError).message).toMatch(/holds the database of server #/);
      // The same configuration still opens.
      const same = createShardedPostgresStorage({ shards: SHARD_URLS, schema: s, maxPoolSize: 3 });
      await same.open();
      await same.close();
    });

    it('runs again a write whose direct key another process committed after its lookup, which then finds it', async () => {
      const s = schema();
      const a = createShardedPostgresStorage({ shards: SHARD_URLS, schema: s, maxPoolSize: 3 });
      const b = createShardedPostgresStorage({ shards: SHARD_URLS, schema: s, maxPoolSize: 3 });
      await a.open();
      await b.open();
      try {
        const direct = (id: string) => ({
          id,
          kind: 'direct' as const,
          name: null,
          createdBy: 'u_a',
          createdAt: 1,
          directKey: 'u_a|u_b',
        });
        let looked!: () => void;
        const bLooked = new Promise<void>((resolve) => {
          looked = resolve;
        });
        let committed!: () => void;
        const aCommitted = new Promise<void>((resolve) => {
          committed = resolve;
        });
        let bAttempts = 0;
        const fromB = b.chat.write(async (tx) => {
          bAttempts++;
          const existing = await tx.findDirectChannel('u_a|u_b');
          if (bAttempts === 1) {
            looked();
            await aCommitted;
          }
          if (existing) return existing.id;
          await tx.insertChannel(direct('d_b'));
          return 'd_b';
        });
        await bLooked;
        await a.chat.write((tx) => tx.insertChannel(direct('d_a')));
        committed();
        expect(await fromB).toBe('d_a');
        expect(bAttempts).toBe(2);
        // Without the lookup, the same insert is a CONFLICT for the caller.
        await expect(b.chat.write((tx) => tx.insertChannel(direct('d_c')))).rejects.toMatchObject({
          code: ErrorCode.CONFLICT,
        });
      } finally {
        await a.close();
        await b.close();
      }
    });
  });

  describe('sharded store: outbox and fan-out', () => {
    it('fans out an entry committed by a process that died before its fan-out, once, and reports it', async () => {
      const s = schema();
      const store = createShardedPostgresStorage({
        shards: SHARD_URLS,
        schema: s,
        fanoutPollMs: 50,
        maxPoolSize: 3,
      });
      await store.open();
      const late: Array<{ userId: string; pos: number }> = [];
      store.chat.onLateEntries!((entries) => late.push(...entries));
      try {
        const [channel] = idsOn(1, 'c_', 1);
        const [alice] = idsOn(0, 'u_a', 1);
        const [bob] = idsOn(2, 'u_b', 1);
        await store.chat.write(async (tx) => {
          await tx.insertChannel({
            id: channel!,
            kind: 'group',
            name: 'g',
            createdBy: alice!,
            createdAt: 1,
            directKey: null,
          });
          for (const userId of [alice!, bob!]) {
            await tx.upsertMember({
              channelId: channel!,
              userId,
              role: 'member',
              joinedAt: 1,
              joinedSeq: 1,
              readSeq: 0,
              deliveredSeq: 0,
            });
          }
        });
        // The channel server's own adapter commits a send (message, local entries, outbox rows) and
        // nothing more: what a node killed right after its commit leaves behind.
        const crashed = createPostgresStorage({ connectionString: SHARD_URLS[1], schema: s });
        await crashed.open();
        for (let i = 0; i < 3; i++) {
          await crashed.chat.write(
            (tx) =>
              tx.appendMessage(
                {
                  id: `m_${i}`,
                  channelId: channel!,
                  senderId: alice!,
                  clientMsgId: null,
                  kind: 'text',
                  text: `t${i}`,
                  mentions: [],
                  system: null,
                  createdAt: 2,
                },
                [alice!, bob!],
              ),
            { channelId: channel! },
          );
        }
        await crashed.close();
        await eventually(async () => (await store.chat.syncHead(bob!)) === 3, "bob's log to reach 3");
        await eventually(async () => late.length === 6, 'the late entries to be reported');
        for (const user of [alice!, bob!]) {
          const entries = await store.chat.readSync(user, 0, 10);
          expect(entries.map((e) => [e.pos, e.kind === 'message' ? e.message.text : '?'])).toEqual([
            [1, 't0'],
            [2, 't1'],
            [3, 't2'],
          ]);
        }
        expect(late.filter((e) => e.userId === bob).map((e) => e.pos)).toEqual([1, 2, 3]);
        await eventually(
          async () => (await rows(SHARD_URLS[1]!, `SELECT * FROM "${s}".shard_outbox`)).length === 0,
          'the outbox to empty',
        );
      } finally {
        await store.close();
      }
    });

    it('two processes fanning out the same outbox copy each entry exactly once, gap-free', async () => {
      const s = schema();
      const a = createShardedPostgresStorage({
        shards: SHARD_URLS,
        schema: s,
        fanoutPollMs: 20,
        maxPoolSize: 3,
      });
      const b = createShardedPostgresStorage({
        shards: SHARD_URLS,
        schema: s,
        fanoutPollMs: 20,
        maxPoolSize: 3,
      });
      await a.open();
      await b.open();
      try {
        const channels = [...idsOn(0, 'c_', 2), ...idsOn(1, 'c_', 2), ...idsOn(2, 'c_', 2)];
        const users = [...idsOn(0, 'u_', 2), ...idsOn(1, 'u_', 2), ...idsOn(2, 'u_', 2)];
        for (const channel of channels) {
          await a.chat.write(async (tx) => {
            await tx.insertChannel({
              id: channel,
              kind: 'group',
              name: 'g',
              createdBy: users[0]!,
              createdAt: 1,
              directKey: null,
            });
            for (const userId of users) {
              await tx.upsertMember({
                channelId: channel,
                userId,
                role: 'member',
                joinedAt: 1,
                joinedSeq: 1,
                readSeq: 0,
                deliveredSeq: 0,
              });
            }
          });
        }
        const sends = Array.from({ length: 120 }, (_, i) => {
          const store = i % 2 === 0 ? a : b;
          const channelId = channels[i % channels.length]!;
          return store.chat.write(
            (tx) =>
              tx.appendMessage(
                {
                  id: `m_${String(i).padStart(4, '0')}`,
                  channelId,
                  senderId: users[i % users.length]!,
                  clientMsgId: null,
                  kind: 'text',
                  text: `t${i}`,
                  mentions: [],
                  system: null,
                  createdAt: 2,
                },
                users,
              ),
            { channelId },
          );
        });
        const appended = await Promise.all(sends);
        for (const user of users) {
          const entries = await a.chat.readSync(user, 0, 1000);
          expect(entries.map((e) => e.pos)).toEqual(Array.from({ length: 120 }, (_, i) => i + 1));
          const ids = entries.map((e) => (e.kind === 'message' ? e.message.id : '?'));
          expect(new Set(ids).size).toBe(120);
          // Each channel's messages in seq order in every log.
          for (const channel of channels) {
            const seqs = entries.flatMap((e) =>
              e.kind === 'message' && e.message.channelId === channel ? [e.message.seq] : [],
            );
            expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
          }
          // The positions each write returned are the log's.
          const returned = appended.flatMap((x) =>
            x.positions.filter((p) => p.userId === user).map((p) => [p.pos, x.message.id]),
          );
          const byPos = new Map(entries.map((e) => [e.pos, e.kind === 'message' ? e.message.id : '?']));
          for (const [pos, id] of returned) expect(byPos.get(pos as number)).toBe(id);
        }
      } finally {
        await a.close();
        await b.close();
      }
    });
  });

  describe('sharded store: an unreachable server', () => {
    it('fails only what needs the server, acknowledges sends whose recipient is on it, and fans out when it is back', async () => {
      const s = schema();
      const target = new URL(SHARD_URLS[2]!);
      const relay = new TcpRelay(target.hostname, Number(target.port || 5432));
      await relay.start();
      const relayed = new URL(SHARD_URLS[2]!);
      relayed.port = String(relay.port);
      const store = createShardedPostgresStorage({
        shards: [SHARD_URLS[0]!, SHARD_URLS[1]!, relayed.toString()],
        schema: s,
        fanoutPollMs: 50,
        maxBackoffMs: 400,
        maxPoolSize: 3,
      });
      await store.open();
      const late: Array<{ userId: string; pos: number }> = [];
      store.chat.onLateEntries!((entries) => late.push(...entries));
      try {
        const [near] = idsOn(0, 'c_', 1);
        const [far] = idsOn(2, 'c_', 1);
        const [alice] = idsOn(0, 'u_a', 1);
        const [bob] = idsOn(2, 'u_b', 1);
        for (const channel of [near!, far!]) {
          await store.chat.write(async (tx) => {
            await tx.insertChannel({
              id: channel,
              kind: 'group',
              name: 'g',
              createdBy: alice!,
              createdAt: 1,
              directKey: null,
            });
            for (const userId of [alice!, bob!]) {
              await tx.upsertMember({
                channelId: channel,
                userId,
                role: 'member',
                joinedAt: 1,
                joinedSeq: 1,
                readSeq: 0,
                deliveredSeq: 0,
              });
            }
          });
        }
        await relay.stop();
        const send = (channelId: string, id: string) =>
          store.chat.write(
            (tx) =>
              tx.appendMessage(
                {
                  id,
                  channelId,
                  senderId: alice!,
                  clientMsgId: null,
                  kind: 'text',
                  text: id,
                  mentions: [],
                  system: null,
                  createdAt: 2,
                },
                [alice!, bob!],
              ),
            { channelId },
          );
        // The channel's server is up: acknowledged; bob's entry waits for his server.
        const acked = await send(near!, 'm_near');
        expect(acked.positions).toEqual([{ userId: alice, pos: 1 }]);
        // The channel's server is down: a typed, retryable refusal; reads of it too.
        for (const refused of [
          () => send(far!, 'm_far'),
          () => store.chat.getChannel(far!),
          () => store.chat.readSync(bob!, 0, 10),
        ]) {
          const error = await refused().then(
            () => undefined,
            (e: unknown) => e,
          );
          expect(error).toMatchObject({ code: ErrorCode.UNAVAILABLE });
          expect((error as { retryAfterMs?: number }).retryAfterMs).toBeGreaterThan(0);
        }
        // Everything else goes on.
        expect((await store.chat.readSync(alice!, 0, 10)).map((e) => e.pos)).toEqual([1]);
        await relay.start();
        await eventually(async () => late.some((e) => e.userId === bob), "bob's entry to be fanned out");
        expect(late).toEqual([{ userId: bob, pos: 1 }]);
        const entries = await store.chat.readSync(bob!, 0, 10);
        expect(entries.map((e) => [e.pos, e.kind === 'message' ? e.message.id : '?'])).toEqual([
          [1, 'm_near'],
        ]);
      } finally {
        await store.close();
        await relay.stop();
      }
    });

    it('rejects calls that need it with NATTER_UNAVAILABLE and a retry-after', async () => {
      const s = schema();
      const store = createShardedPostgresStorage({ shards: SHARD_URLS, schema: s, maxPoolSize: 3 });
      await store.open();
      await store.close();
      // The same data with server 2 behind a port nothing listens on.
      const down = createShardedPostgresStorage({
        shards: [SHARD_URLS[0]!, SHARD_URLS[1]!, 'postgres://postgres@127.0.0.1:1/test'],
        schema: s,
        maxPoolSize: 3,
      });
      const refusal = await down.open().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(refusal).toMatchObject({ code: ErrorCode.UNAVAILABLE });
      expect((refusal as { retryAfterMs?: number }).retryAfterMs).toBeGreaterThan(0);
    });
  });
} else {
  describe.skip('sharded store (NATTER_PG_SHARD_URLS unreachable, see the warning)', () => {});
}
