import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { createPostgresStorage } from '@natter/storage-postgres';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { api, signup, startServer, type TestServer } from '../helpers/server.js';
import { loginDevice, MlsDevice } from './mls-device.js';

/**
 * "The server's store contains no plaintext": an encrypted conversation (a 1-1 and a group, two users with
 * two devices each, a device added and one removed) through a real server, then the database files (the
 * SQLite file and its WAL; every PostgreSQL table as text) are searched for every plaintext sent.
 */
const PG_URL = process.env.NATTER_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const SECRETS = [
  'the falcon lands at midnight',
  'Bring the blue folder',
  'pässwörd is hunter2 ✓',
  'reply: confirmed, see you',
  'only for the new tablet',
];

let cleanup: (() => Promise<void>) | undefined;
afterEach(async () => {
  await cleanup?.();
  cleanup = undefined;
});

/** Runs the conversation on `ts`; returns the plaintexts every remaining device decrypted. */
async function converse(ts: TestServer): Promise<string[]> {
  const url = ts.url;
  const [alice, bob] = await Promise.all([signup(url), signup(url)]);
  const [alice2, bob2] = await Promise.all([loginDevice(url, alice), loginDevice(url, bob)]);
  const [a1, a2, b1, b2] = await Promise.all(
    [alice, alice2, bob, bob2].map((session) => MlsDevice.create(url, session)),
  );
  const direct = await api<{ channel: { id: string } }>(url, alice, 'POST', '/v1/channels/direct', {
    userId: bob.id,
    encrypted: true,
  });
  const group = await api<{ channel: { id: string } }>(url, bob, 'POST', '/v1/groups', {
    name: 'project',
    memberIds: [alice.id],
    encrypted: true,
  });
  const dm = direct.body.channel.id;
  const gid = group.body.channel.id;
  await a1!.engine.createGroup(dm);
  await a1!.add(dm, [a2!.ref, b1!.ref, b2!.ref]);
  await b1!.engine.createGroup(gid);
  await b1!.add(gid, [b2!.ref, a1!.ref, a2!.ref]);
  for (const d of [a2!, b1!, b2!, a1!]) await d.acceptWelcomes();
  await a1!.send(dm, SECRETS[0]!);
  await b2!.send(dm, SECRETS[1]!);
  await a2!.send(gid, SECRETS[2]!);
  // A device is added (alice's tablet, by Welcome) and one removed (bob's second, revoked).
  const a3 = await MlsDevice.create(url, await loginDevice(url, alice));
  await b1!.catchUp(gid);
  await b1!.add(gid, [a3.ref]);
  await a3.acceptWelcomes();
  expect((await b2!.call('DELETE', `/v1/devices/${b2!.session.deviceId}`)).status).toBe(204);
  await a1!.catchUp(gid);
  await a1!.settle(gid, await a1!.submit(gid, await a1!.engine.removeDevices(gid, [b2!.ref]), [b2!.ref]));
  await b1!.catchUp(gid);
  await b1!.send(gid, SECRETS[3]!);
  await a1!.send(gid, SECRETS[4]!);
  const read: string[] = [];
  for (const d of [a1!, a2!, b1!, a3]) {
    for (const id of [dm, gid]) {
      await d.catchUp(id);
      read.push(...(d.received.get(id) ?? []));
    }
  }
  return read;
}

function expectNoneOf(haystack: Buffer, what: string): void {
  for (const secret of SECRETS) {
    for (const encoding of ['utf8', 'utf16le'] as const) {
      expect(
        haystack.includes(Buffer.from(secret, encoding)),
        `${what} holds "${secret}" (${encoding})`,
      ).toBe(false);
    }
  }
}

describe('no plaintext of an encrypted conversation in the store', () => {
  it('SQLite: neither the database file nor its WAL holds any plaintext', async () => {
    const ts = await startServer();
    cleanup = async () => rmSync(ts.dir, { recursive: true, force: true });
    const read = await converse(ts);
    // The test can fail: every secret was really sent and decrypted by some device.
    for (const secret of SECRETS) expect(read).toContain(secret);
    await ts.server.close();
    const files = readdirSync(ts.dir).filter((f) => f.startsWith('natter.db'));
    expect(files).toContain('natter.db');
    for (const f of files) expectNoneOf(readFileSync(join(ts.dir, f)), f);
  });

  it('PostgreSQL: no table of the schema holds any plaintext', async () => {
    const schema = `natter_e2ee_${randomBytes(5).toString('hex')}`;
    const admin = new pg.Pool({ connectionString: PG_URL, max: 1 });
    const ts = await startServer({ storage: createPostgresStorage({ connectionString: PG_URL, schema }) });
    cleanup = async () => {
      await ts.stop().catch(() => undefined);
      await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await admin.end();
    };
    const read = await converse(ts);
    for (const secret of SECRETS) expect(read).toContain(secret);
    const tables = await admin.query<{ table_name: string }>(
      'SELECT table_name FROM information_schema.tables WHERE table_schema = $1',
      [schema],
    );
    expect(tables.rows.length).toBeGreaterThan(3);
    const dump: string[] = [];
    for (const { table_name } of tables.rows) {
      const rows = await admin.query<{ row: string }>(
        `SELECT t::text AS row FROM "${schema}"."${table_name}" t`,
      );
      dump.push(...rows.rows.map((r) => r.row));
    }
    expectNoneOf(Buffer.from(dump.join('\n')), `schema ${schema}`);
    // The dump does hold the conversation, as ciphertext entries.
    expect(dump.join('\n')).toContain('mls_message');
  });
});
