import { DEFAULT_LIMITS } from '@natter/protocol';
import {
  type CheckedAppendResult,
  ErrorCode,
  type NewMessage,
  STORAGE_CONTRACT_VERSION,
  type StorageAdapter,
  type WriteTransaction,
} from '@natter/server-core';
import { BlockList, ChatService, DirectGuard, GroupModeration } from '@natter/server-core/internals';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { createPostgresStorage, SCHEMA_VERSION } from '../src/index.js';
import { MIGRATIONS, migrate, schemaVersionOf } from '../src/schema/migrations.js';
import { adminPool, dropSchema, PG_URL, pgSuitesRun, uniqueSchema } from './pg.js';

const run = await pgSuitesRun();

const message = (id: string, overrides: Partial<NewMessage> = {}): NewMessage => ({
  id,
  channelId: 'c1',
  senderId: 'u_a',
  clientMsgId: null,
  kind: 'text',
  text: `text ${id}`,
  mentions: [],
  system: null,
  createdAt: 1_000,
  ...overrides,
});

const channel = (id: string, directKey: string | null = null) => ({
  id,
  kind: directKey === null ? ('group' as const) : ('direct' as const),
  name: directKey === null ? id : null,
  createdBy: 'u_a',
  createdAt: 1,
  directKey,
});

const member = (channelId: string, userId: string) => ({
  channelId,
  userId,
  role: 'member' as const,
  joinedAt: 1,
  joinedSeq: 1,
  readSeq: 0,
  deliveredSeq: 0,
});

/** A gate a write can wait on while the test looks from outside. */
function gate() {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}

describe.runIf(run)('createPostgresStorage', () => {
  let admin: pg.Pool;
  let schema: string;
  let storage: StorageAdapter;
  const others: StorageAdapter[] = [];
  const create = (options: { maxPoolSize?: number } = {}) =>
    createPostgresStorage({ connectionString: PG_URL, schema, ...options });
  /** Another adapter on the same schema, as another process would open it. */
  const another = async () => {
    const adapter = create();
    others.push(adapter);
    await adapter.open();
    return adapter;
  };

  beforeAll(() => {
    admin = adminPool();
  });
  afterAll(() => admin.end());

  beforeEach(async () => {
    schema = uniqueSchema();
    storage = create();
    await storage.open();
    await storage.chat.write(async (tx) => {
      await tx.insertChannel(channel('c1'));
      await tx.upsertMember(member('c1', 'u_a'));
    });
  });

  afterEach(async () => {
    await storage.close();
    for (const other of others.splice(0)) await other.close();
    await dropSchema(admin, schema);
  });

  it('declares a persistent, multi-process store with search and the message lifecycle', () => {
    expect(storage.manifest).toEqual({
      name: 'postgres',
      contractVersion: STORAGE_CONTRACT_VERSION,
      schemaVersion: SCHEMA_VERSION,
      capabilities: { persistent: true, multiProcess: true, search: true, lifecycle: true, moderation: true },
    });
  });

  it('serialises a ban and an add of the same user from two processes: the banned user is never left a member', async () => {
    const other = await another();
    for (const id of ['u_admin', 'u_member', 'u_target']) {
      await storage.accounts.createUser({
        id,
        username: id.slice(2),
        displayName: id,
        passwordHash: null,
        createdAt: 1,
      });
    }
    const node = (adapter: StorageAdapter) => {
      const sink = { deliver: () => undefined };
      const blocks = new BlockList({
        reads: adapter.chat.moderation!,
        accounts: adapter.accounts,
        now: Date.now,
      });
      const groups = new GroupModeration({
        chat: adapter.chat,
        accounts: adapter.accounts,
        sink,
        now: Date.now,
      });
      const service = new ChatService({
        chat: adapter.chat,
        accounts: adapter.accounts,
        limits: DEFAULT_LIMITS,
        sink,
        rules: { blocks, groups, direct: new DirectGuard(adapter.chat, blocks) },
      });
      return { service, groups };
    };
    const [a, b] = [node(storage), node(other)];
    for (let round = 0; round < 10; round++) {
      const group = await a.service.createGroup('u_admin', 'team', ['u_member']);
      const outcomes = await Promise.allSettled([
        a.groups.ban('u_admin', group.id, 'u_target'),
        b.service.addMembers('u_member', group.id, ['u_target']),
      ]);
      expect(outcomes[0].status === 'rejected' ? String(outcomes[0].reason) : 'fulfilled').toBe('fulfilled');
      if (outcomes[1].status === 'rejected') {
        expect((outcomes[1].reason as { code?: string }).code).toBe(ErrorCode.USER_BANNED);
      }
      expect(await storage.chat.getMember(group.id, 'u_target')).toBeUndefined();
    }
  });

  it('rejects invalid options', () => {
    expect(() => createPostgresStorage({ schema: 'natter; DROP TABLE x' })).toThrow(TypeError);
    expect(() => createPostgresStorage({ schema: '1abc' })).toThrow(TypeError);
    expect(() => createPostgresStorage({ schema: 'a'.repeat(64) })).toThrow(TypeError);
    expect(() => createPostgresStorage({ maxPoolSize: 0 })).toThrow(TypeError);
    expect(() => createPostgresStorage({ maxAttempts: 0 })).toThrow(TypeError);
    expect(() => createPostgresStorage({ synchronousCommit: 'maybe' as 'on' })).toThrow(TypeError);
  });

  it('records the schema version and keeps the epoch across reopen', async () => {
    expect(await schemaVersionOf(admin, schema)).toBe(SCHEMA_VERSION);
    const epoch = storage.chat.epoch();
    expect(epoch).toMatch(/^[0-9a-f]{32}$/);
    await storage.close();
    await storage.open();
    expect(storage.chat.epoch()).toBe(epoch);
  });

  it('refuses a schema newer than the code, without touching it', async () => {
    await admin.query(`UPDATE "${schema}".schema_version SET version = $1`, [SCHEMA_VERSION + 1]);
    const newer = create();
    await expect(newer.open()).rejects.toMatchObject({ code: ErrorCode.STORE_VERSION_UNSUPPORTED });
    await expect(newer.chat.getChannel('c1')).rejects.toMatchObject({ code: ErrorCode.UNAVAILABLE });
    expect(await schemaVersionOf(admin, schema)).toBe(SCHEMA_VERSION + 1);
    await admin.query(`UPDATE "${schema}".schema_version SET version = $1`, [SCHEMA_VERSION]);
  });

  it('lets several adapters open a new schema at once: migrations run once, one epoch', async () => {
    const fresh = uniqueSchema();
    const adapters = Array.from({ length: 6 }, () =>
      createPostgresStorage({ connectionString: PG_URL, schema: fresh }),
    );
    try {
      await Promise.all(adapters.map((a) => a.open()));
      expect(new Set(adapters.map((a) => a.chat.epoch())).size).toBe(1);
      expect(await schemaVersionOf(admin, fresh)).toBe(SCHEMA_VERSION);
    } finally {
      for (const a of adapters) await a.close();
      await dropSchema(admin, fresh);
    }
  });

  it('rolls back a failing migration step and keeps the previous version', async () => {
    const fresh = uniqueSchema();
    const steps = [
      ...MIGRATIONS,
      {
        version: SCHEMA_VERSION + 1,
        description: 'fails half-way',
        sql: (s: string) => `CREATE TABLE ${s}.half (x int); INSERT INTO ${s}.nowhere VALUES (1);`,
      },
    ];
    try {
      await expect(migrate(admin, fresh, steps)).rejects.toThrow(/nowhere/);
      expect(await schemaVersionOf(admin, fresh)).toBe(SCHEMA_VERSION);
      const { rows } = await admin.query('SELECT to_regclass($1) AS t', [`"${fresh}".half`]);
      expect(rows[0].t).toBeNull();
    } finally {
      await dropSchema(admin, fresh);
    }
  });

  it('stores text with U+0000 and backslashes exactly, and searches it as words', async () => {
    const text = 'nul\u0000here, back\\slash \\0 and \\\\ end';
    const name = 'na\u0000me\\';
    await storage.chat.write((tx) => tx.renameChannel('c1', name));
    const { message: stored } = await storage.chat.write((tx) =>
      tx.appendMessage(message('m1', { text }), ['u_a']),
    );
    expect((await storage.chat.getMessage('c1', 1))?.text).toBe(text);
    expect(stored.text).toBe(text);
    expect((await storage.chat.getChannel('c1'))?.name).toBe(name);
    await storage.accounts.createUser({
      id: 'u_a',
      username: 'a',
      displayName: 'A\u0000\\B',
      passwordHash: null,
      createdAt: 1,
    });
    expect((await storage.accounts.getUser('u_a'))?.displayName).toBe('A\u0000\\B');
    const search = (q: string) => storage.chat.searchMessages!({ userId: 'u_a', limit: 5, text: q });
    for (const words of ['nul here', 'back slash', 'end', '0'])
      expect(await search(words), words).toHaveLength(1);
    expect(await search('nulhere')).toEqual([]);
  });

  it('does not show a write in progress to reads, from this adapter or another one', async () => {
    const other = await another();
    const hold = gate();
    const appended = gate();
    const pending = storage.chat.write(async (tx) => {
      await tx.appendMessage(message('m1'), ['u_a']);
      appended.open();
      await hold.promise;
    });
    await appended.promise;
    for (const reader of [storage, other]) {
      expect((await reader.chat.getChannel('c1'))?.lastSeq).toBe(0);
      expect(await reader.chat.readSync('u_a', 0, 10)).toEqual([]);
    }
    hold.open();
    await pending;
    expect((await other.chat.getChannel('c1'))?.lastSeq).toBe(1);
  });

  it('fails a write whose function swallowed an SQL error, instead of committing half of it', async () => {
    const write = storage.chat.write(async (tx) => {
      await tx.appendMessage(message('m1'), ['u_a']);
      await tx.insertChannel({ ...channel('c_bad'), kind: 'bogus' as 'group' }).catch(() => undefined);
      return 'done';
    });
    await expect(write).rejects.toMatchObject({ code: '23514' });
    expect((await storage.chat.getChannel('c1'))?.lastSeq).toBe(0);
  });

  it('gives a recipient listed twice two positions', async () => {
    const appended = await storage.chat.write((tx) => tx.appendMessage(message('m1'), ['u_b', 'u_a', 'u_b']));
    expect(appended.positions).toEqual([
      { userId: 'u_b', pos: 1 },
      { userId: 'u_a', pos: 1 },
      { userId: 'u_b', pos: 2 },
    ]);
    expect((await storage.chat.readSync('u_b', 0, 10)).map((e) => e.pos)).toEqual([1, 2]);
  });

  it('runs a write again after a serialization failure or deadlock', async () => {
    let attempts = 0;
    const value = await storage.chat.write(async (tx) => {
      attempts++;
      await tx.appendMessage(message(`m${attempts}`), ['u_a']);
      if (attempts < 3)
        throw Object.assign(new Error('could not serialize access'), {
          code: attempts === 1 ? '40001' : '40P01',
        });
      return attempts;
    });
    expect(value).toBe(3);
    expect(
      (await storage.chat.readSync('u_a', 0, 10)).map((e) => [e.pos, e.kind === 'message' && e.message.id]),
    ).toEqual([[1, 'm3']]);
  });

  it('resolves a real deadlock between two adapters by retrying one write', { timeout: 20_000 }, async () => {
    const other = await another();
    await storage.chat.write((tx) => tx.insertChannel(channel('c2')));
    const bothLocked = { a: gate(), b: gate() };
    // Each write locks one channel row, waits until the other holds the other row, then wants it.
    const crosswise = (
      adapter: StorageAdapter,
      first: string,
      second: string,
      mine: keyof typeof bothLocked,
    ) => {
      let attempt = 0;
      return adapter.chat.write(async (tx) => {
        attempt++;
        await tx.renameChannel(first, `locked by ${mine}`);
        if (attempt === 1) {
          bothLocked[mine].open();
          await Promise.all([bothLocked.a.promise, bothLocked.b.promise]);
        }
        await tx.renameChannel(second, `locked by ${mine}`);
        return attempt;
      });
    };
    const attempts = await Promise.all([
      crosswise(storage, 'c1', 'c2', 'a'),
      crosswise(other, 'c2', 'c1', 'b'),
    ]);
    expect(attempts.sort()).toEqual([1, 2]);
  });

  it('runs again a write that lost an insert race, so it finds the row the other write committed', async () => {
    const other = await another();
    const bothLooked = { a: gate(), b: gate() };
    // The core's openDirect: look for the direct channel, create it when missing.
    const openDirect = (adapter: StorageAdapter, id: string, mine: keyof typeof bothLooked) => {
      let attempt = 0;
      return adapter.chat.write(async (tx) => {
        attempt++;
        const existing = await tx.findDirectChannel('u_a|u_b');
        if (attempt === 1) {
          bothLooked[mine].open();
          await Promise.all([bothLooked.a.promise, bothLooked.b.promise]);
        }
        if (existing) return { id: existing.id, attempt };
        await tx.insertChannel(channel(id, 'u_a|u_b'));
        return { id, attempt };
      });
    };
    const [a, b] = await Promise.all([openDirect(storage, 'd_a', 'a'), openDirect(other, 'd_b', 'b')]);
    expect(a.id).toBe(b.id);
    expect([a.attempt, b.attempt].sort()).toEqual([1, 2]);
  });

  it('runs again a write whose direct key was committed between its lookup and its insert', async () => {
    // The other order of the race above, made certain: b looks, a commits, then b inserts. b's insert
    // check sees a's row (READ COMMITTED), which is a lost race, not a CONFLICT for the caller.
    const other = await another();
    const bLooked = gate();
    const aCommitted = gate();
    let bAttempts = 0;
    const b = other.chat.write(async (tx) => {
      bAttempts++;
      const existing = await tx.findDirectChannel('u_a|u_b');
      if (bAttempts === 1) {
        bLooked.open();
        await aCommitted.promise;
      }
      if (existing) return existing.id;
      await tx.insertChannel(channel('d_b', 'u_a|u_b'));
      return 'd_b';
    });
    await bLooked.promise;
    const a = storage.chat.write(async (tx) => {
      await tx.insertChannel(channel('d_a', 'u_a|u_b'));
      return 'd_a';
    });
    expect(await a).toBe('d_a');
    aCommitted.open();
    expect(await b).toBe('d_a');
    expect(bAttempts).toBe(2);
  });

  it('still refuses with CONFLICT a channel whose id is taken, also after a missed direct key lookup', async () => {
    await storage.chat.write((tx) => tx.insertChannel(channel('d_taken', 'u_p|u_q')));
    const attempts: number[] = [];
    const result = storage.chat.write(async (tx) => {
      attempts.push(attempts.length + 1);
      expect(await tx.findDirectChannel('u_p|u_r')).toBeUndefined();
      await tx.insertChannel(channel('d_taken', 'u_p|u_r'));
    });
    await expect(result).rejects.toMatchObject({ code: ErrorCode.CONFLICT });
    expect(attempts).toEqual([1]);
  });

  it('refuses a transaction used after its write settled', async () => {
    let leaked!: WriteTransaction;
    await storage.chat.write(async (tx) => {
      leaked = tx;
    });
    await expect(leaked.getChannel('c1')).rejects.toThrow(/after its write\(\) settled/);
  });

  it.each([1, 3])(
    'keeps call order per channel with %i write lane(s): a write without a hint waits for the writes before it',
    async (writeLanes) => {
      const lanes = createPostgresStorage({ connectionString: PG_URL, schema, writeLanes });
      others.push(lanes);
      await lanes.open();
      const order: string[] = [];
      const hold = gate();
      const first = lanes.chat.write(
        async (tx) => {
          await hold.promise;
          await tx.appendMessage(message('m1'), []);
          order.push('hinted');
        },
        { channelId: 'c1' },
      );
      const barrier = lanes.chat.write(async (tx) => {
        await tx.appendMessage(message('m2'), []);
        order.push('unhinted');
      });
      const after = lanes.chat.write(
        async (tx) => {
          await tx.appendMessage(message('m3'), []);
          order.push('hinted after');
        },
        { channelId: 'c1' },
      );
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(order).toEqual([]);
      hold.open();
      await Promise.all([first, barrier, after]);
      expect(order).toEqual(['hinted', 'unhinted', 'hinted after']);
      expect(
        (await lanes.chat.readHistory('c1', { limit: 10, minSeq: 0 })).messages.map((m) => m.id),
      ).toEqual(['m1', 'm2', 'm3']);
    },
  );

  it('refuses calls with UNAVAILABLE after close, and close waits for queued writes', async () => {
    const queued = Array.from({ length: 5 }, (_, i) =>
      storage.chat.write((tx) => tx.appendMessage(message(`m${i}`), ['u_a']), { channelId: 'c1' }),
    );
    const closed = storage.close();
    await expect(storage.chat.write(async () => 1)).rejects.toMatchObject({ code: ErrorCode.UNAVAILABLE });
    await closed;
    expect((await Promise.all(queued)).map((a) => a.message.seq)).toEqual([1, 2, 3, 4, 5]);
    await expect(storage.chat.getChannel('c1')).rejects.toMatchObject({ code: ErrorCode.UNAVAILABLE });
    await expect(storage.accounts.getUser('u_a')).rejects.toMatchObject({ code: ErrorCode.UNAVAILABLE });
    await storage.open();
    expect((await storage.chat.getChannel('c1'))?.lastSeq).toBe(5);
  });

  /**
   * A store with one write lane, `u_a` and `u_b` in channels c1 and c2, and `send(i)`: u_a's send `m<i>`
   * (key `k<i>` unless given) to c1 for even i and c2 for odd, hinted `appendOnly` when asked.
   */
  async function twoChannelsOneLane(appendOnly: boolean) {
    const oneLane = createPostgresStorage({ connectionString: PG_URL, schema, writeLanes: 1 });
    others.push(oneLane);
    await oneLane.open();
    await oneLane.chat.write(async (tx) => {
      await tx.insertChannel(channel('c2'));
      for (const userId of ['u_a', 'u_b']) await tx.upsertMember(member('c2', userId));
      await tx.upsertMember(member('c1', 'u_b'));
    });
    const send = (i: number, clientMsgId = `k${i}`) => {
      const channelId = i % 2 === 0 ? 'c1' : 'c2';
      return oneLane.chat.write(
        (tx) =>
          tx.appendChecked!({
            id: `m${i}`,
            channelId,
            senderId: 'u_a',
            clientMsgId,
            text: `send ${i}`,
            mentions: ['u_b'],
            createdAt: 1_000 + i,
          }),
        appendOnly ? { channelId, appendOnly } : { channelId },
      );
    };
    return { oneLane, send };
  }

  it('commits a batch of concurrent sends in three round trips: BEGIN, one send_checked call, COMMIT', async () => {
    const { oneLane, send } = await twoChannelsOneLane(false);
    const queries = vi.spyOn(pg.Client.prototype, 'query');
    try {
      const results = await Promise.all(Array.from({ length: 40 }, (_, i) => send(i)));
      expect(queries).toHaveBeenCalledTimes(3);
      expect(results.map((r) => r.kind)).toEqual(Array(40).fill('appended'));
    } finally {
      queries.mockRestore();
    }
    expect((await oneLane.chat.getChannel('c1'))?.lastSeq).toBe(20);
    expect((await oneLane.chat.getChannel('c2'))?.lastSeq).toBe(20);
    expect(await oneLane.chat.syncHead('u_a')).toBe(40);
    expect(
      (await oneLane.chat.readSync('u_b', 0, 100)).map((e) => e.kind === 'message' && e.message.id),
    ).toEqual(Array.from({ length: 40 }, (_, i) => `m${i}`));
    expect(await oneLane.chat.mentionsOf({ userId: 'u_b', limit: 100 })).toHaveLength(40);
  });

  it('commits sends hinted appendOnly in one round trip each batch, with no BEGIN or COMMIT', async () => {
    const { oneLane, send } = await twoChannelsOneLane(true);
    const queries = vi.spyOn(pg.Client.prototype, 'query');
    try {
      const results = await Promise.all(Array.from({ length: 40 }, (_, i) => send(i)));
      expect(queries).toHaveBeenCalledTimes(1);
      expect((queries.mock.calls[0]![0] as unknown as { text: string }).text).toContain('append_group_alone');
      expect(results.map((r) => r.kind)).toEqual(Array(40).fill('appended'));
      queries.mockClear();
      // A lone send too, and a retry of a send: the duplicate reads its message back (two statements).
      expect((await send(40)).kind).toBe('appended');
      expect(queries).toHaveBeenCalledTimes(1);
      queries.mockClear();
      const again = await send(41, 'k3');
      expect(again).toMatchObject({ kind: 'duplicate', message: { id: 'm3', text: 'send 3' } });
      expect(queries).toHaveBeenCalledTimes(2);
    } finally {
      queries.mockRestore();
    }
    expect((await oneLane.chat.getChannel('c1'))?.lastSeq).toBe(21);
    expect((await oneLane.chat.getChannel('c2'))?.lastSeq).toBe(20);
    expect(await oneLane.chat.syncHead('u_a')).toBe(41);
    expect(
      (await oneLane.chat.readSync('u_b', 0, 100)).map((e) => e.kind === 'message' && e.message.id),
    ).toEqual(Array.from({ length: 41 }, (_, i) => `m${i}`));
    // A write whose hint is wrong runs again in a transaction when it had stored nothing yet ...
    expect(
      await oneLane.chat.write(async (tx) => (await tx.getMember('c1', 'u_a'))?.userId, {
        channelId: 'c1',
        appendOnly: true,
      }),
    ).toBe('u_a');
    // An append with attachments (a wrong hint) is not run alone: its second statement needs the
    // transaction, so it goes back to the transactional path and is stored whole.
    const attachment = {
      mediaId: 'm_pdf',
      kind: 'file' as const,
      mime: 'application/pdf',
      size: 9,
      filename: 'report.pdf',
      thumbnails: [],
    };
    const withFile = await oneLane.chat.write(
      (tx) =>
        tx.appendChecked!({
          id: 'm43',
          channelId: 'c1',
          senderId: 'u_a',
          clientMsgId: 'k43',
          text: 'a file',
          mentions: [],
          createdAt: 2_001,
          attachments: [attachment],
        }),
      { channelId: 'c1', appendOnly: true },
    );
    expect(withFile.kind).toBe('appended');
    const { messages } = await oneLane.chat.readHistory('c1', { limit: 1, minSeq: 0 });
    expect(messages[0]).toMatchObject({ id: 'm43', attachments: [attachment] });
    // ... and fails, before the statement runs, once its append committed.
    await expect(
      oneLane.chat.write(
        async (tx) => {
          await tx.appendChecked!({
            id: 'm42',
            channelId: 'c1',
            senderId: 'u_a',
            clientMsgId: 'k42',
            text: 'then a read',
            mentions: [],
            createdAt: 2_000,
          });
          return tx.getMember('c1', 'u_a');
        },
        { channelId: 'c1', appendOnly: true },
      ),
    ).rejects.toThrow(/hinted appendOnly/);
  });

  it('lets a write use its transaction after an append that ran grouped with later writes', async () => {
    const send = (id: string) => ({
      id,
      channelId: 'c1',
      senderId: 'u_a',
      clientMsgId: `k-${id}`,
      text: id,
      mentions: [],
      createdAt: 1,
    });
    // Three writes in one batch; the first renames the channel after its send, so the batch runs
    // again in call order: the rename lands between the first and the second send.
    const [first, second, third] = await Promise.all([
      storage.chat.write(
        async (tx) => {
          const result = await tx.appendChecked!(send('m1'));
          await tx.renameChannel('c1', 'renamed after m1');
          return result;
        },
        { channelId: 'c1' },
      ),
      storage.chat.write((tx) => tx.appendChecked!(send('m2')), { channelId: 'c1' }),
      storage.chat.write(
        async (tx) => ({
          name: (await tx.getChannel('c1'))?.name,
          sent: await tx.appendChecked!(send('m3')),
        }),
        { channelId: 'c1' },
      ),
    ]);
    const seqOf = (r: CheckedAppendResult) => (r.kind === 'appended' ? r.appended.message.seq : undefined);
    expect([seqOf(first), seqOf(second), seqOf(third.sent)]).toEqual([1, 2, 3]);
    expect(third.name).toBe('renamed after m1');
    expect(
      (await storage.chat.readSync('u_a', 0, 10)).map((e) => e.kind === 'message' && e.message.id),
    ).toEqual(['m1', 'm2', 'm3']);
  });

  it('works with synchronousCommit: off', async () => {
    const fast = createPostgresStorage({ connectionString: PG_URL, schema, synchronousCommit: 'off' });
    others.push(fast);
    await fast.open();
    const appended = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        fast.chat.write((tx) => tx.appendMessage(message(`m${i}`), ['u_a']), { channelId: 'c1' }),
      ),
    );
    expect(appended.map((a) => a.message.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });
});
