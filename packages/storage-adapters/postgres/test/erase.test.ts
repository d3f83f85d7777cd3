import { DEFAULT_LIMITS } from '@natter/protocol';
import type { StorageAdapter } from '@natter/server-core';
import { ChatService } from '@natter/server-core/internals';
import type pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createPostgresStorage } from '../src/index.js';
import { adminPool, dropSchema, PG_URL, pgSuitesRun, uniqueSchema } from './pg.js';

const run = await pgSuitesRun();
const SECRET = 'qxzsecretmarker';

function serviceOver(storage: StorageAdapter): ChatService {
  return new ChatService({
    chat: storage.chat,
    accounts: storage.accounts,
    limits: DEFAULT_LIMITS,
    sink: { deliver: () => undefined },
  });
}

async function users(storage: StorageAdapter, ids: readonly string[]): Promise<void> {
  for (const id of ids) {
    await storage.accounts.createUser({
      id,
      username: id,
      displayName: id,
      passwordHash: null,
      createdAt: 1,
    });
  }
}

describe.runIf(run)('postgres: what a delete erases', () => {
  let admin: pg.Pool;
  const schemas: string[] = [];
  const open: StorageAdapter[] = [];
  beforeAll(() => {
    admin = adminPool();
  });
  afterEach(async () => {
    for (const storage of open.splice(0)) await storage.close();
    for (const schema of schemas.splice(0)) await dropSchema(admin, schema);
  });
  afterAll(async () => {
    await admin.end();
  });

  async function store(schema = uniqueSchema()): Promise<StorageAdapter> {
    if (!schemas.includes(schema)) schemas.push(schema);
    const storage = createPostgresStorage({ connectionString: PG_URL, schema, maxPoolSize: 4 });
    await storage.open();
    open.push(storage);
    return storage;
  }

  /** The pages of a relation (heap, TOAST or index) that hold `text`'s bytes, read raw with pageinspect. */
  async function pagesHolding(relation: string, text: string): Promise<number> {
    const { rows } = await admin.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM generate_series(0, pg_relation_size($1::regclass) / 8192 - 1) AS b
        WHERE position(convert_to($2, 'UTF8') IN get_raw_page($1::text, b::int)) > 0`,
      [relation, text],
    );
    return rows[0]!.n;
  }

  it('no live row of any table holds the text of a deleted (or edited-away) message; VACUUM FULL drops the old versions', async () => {
    const schema = uniqueSchema();
    const storage = await store(schema);
    await users(storage, ['u_a', 'u_b']);
    const service = serviceOver(storage);
    const group = await service.createGroup('u_a', 'g', ['u_b']);
    for (let i = 0; i < 50; i++) {
      await service.sendMessage('u_b', { channelId: group.id, clientMsgId: `f${i}`, text: `filler ${i}` });
    }
    const sent = await service.sendMessage('u_a', {
      channelId: group.id,
      clientMsgId: 's',
      text: `${SECRET} original`,
      mentions: ['u_b'],
    });
    const seq = sent.entry.message.seq;
    await service.lifecycle.edit('u_a', {
      clientId: 'e',
      channelId: group.id,
      seq,
      text: `${SECRET} edited`,
    });
    await service.lifecycle.react('u_b', { clientId: 'r', channelId: group.id, seq, emoji: '👍', add: true });
    await service.lifecycle.delete('u_a', { clientId: 'd', channelId: group.id, seq });

    // Every row of every table of the store, as text (the search vector's lexemes included).
    const { rows: tables } = await admin.query<{ name: string }>(
      `SELECT table_name AS name FROM information_schema.tables WHERE table_schema = $1`,
      [schema],
    );
    expect(tables.map((t) => t.name)).toEqual(expect.arrayContaining(['messages', 'mentions', 'reactions']));
    for (const { name } of tables) {
      const { rows } = await admin.query<{ row: string }>(
        `SELECT t::text AS row FROM "${schema}"."${name}" t`,
      );
      expect(
        rows.filter((r) => r.row.includes(SECRET)),
        name,
      ).toEqual([]);
    }
    const filler = await admin.query(
      `SELECT 1 FROM "${schema}".messages WHERE search @@ to_tsquery('simple', 'filler')`,
    );
    expect(filler.rowCount).toBe(51 - 1);

    // What PostgreSQL keeps below the rows (decision 110): the old row versions stay in the heap as dead
    // tuples (a plain VACUUM frees their space for reuse but does not overwrite it), and the words stay as
    // keys of the GIN index. Rewriting the table and its indexes (VACUUM FULL) leaves none in the files.
    await admin.query('CREATE EXTENSION IF NOT EXISTS pageinspect');
    const messages = `"${schema}".messages`;
    const searchIndex = `"${schema}".messages_search`;
    expect(await pagesHolding(messages, SECRET)).toBeGreaterThan(0);
    expect(await pagesHolding(searchIndex, SECRET)).toBeGreaterThan(0);
    await admin.query(`VACUUM FULL ${messages}`);
    expect(await pagesHolding(messages, SECRET)).toBe(0);
    expect(await pagesHolding(messages, 'filler 7')).toBe(1);
    expect(await pagesHolding(searchIndex, SECRET)).toBe(0);
    expect(await pagesHolding(searchIndex, 'filler')).toBeGreaterThan(0);
  });

  it('an edit racing a delete from another process never brings the text back', async () => {
    const schema = uniqueSchema();
    const first = await store(schema);
    const second = await store(schema);
    await users(first, ['u_a', 'u_b']);
    const editor = serviceOver(first);
    const deleter = serviceOver(second);
    const group = await editor.createGroup('u_a', 'g', ['u_b']);
    const rounds = 20;
    for (let i = 0; i < rounds; i++) {
      await editor.sendMessage('u_a', { channelId: group.id, clientMsgId: `m${i}`, text: `v1 ${i}` });
    }
    const outcomes = await Promise.all(
      Array.from({ length: rounds }, async (_, i) => {
        const at = { channelId: group.id, seq: i + 2 };
        const [edit] = await Promise.allSettled([
          editor.lifecycle.edit('u_a', { ...at, clientId: `e${i}`, text: `${SECRET} ${i}` }),
          deleter.lifecycle.delete('u_a', { ...at, clientId: `d${i}` }),
        ]);
        return edit.status === 'fulfilled' ? 'edited first' : (edit.reason as { code?: string }).code;
      }),
    );
    expect(outcomes.every((o) => o === 'edited first' || o === 'NATTER_MESSAGE_DELETED')).toBe(true);
    const page = await first.chat.readHistory(group.id, { limit: 50, minSeq: 1 });
    const replies = page.messages.filter((m) => m.kind === 'text');
    expect(replies).toHaveLength(rounds);
    for (const m of replies) expect(m).toMatchObject({ text: '', deletedBy: 'u_a' });
    // Each member's log holds one entry per message plus the edits that won, then one delete each.
    const edited = outcomes.filter((o) => o === 'edited first').length;
    expect(await first.chat.syncHead('u_b')).toBe(1 + rounds + edited + rounds);
  });
});
