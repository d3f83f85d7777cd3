// Scratch: the storage bench's postgres send loop in one process, for --cpu-prof (not committed).
import { DEFAULT_LIMITS, newId } from '@natter/protocol';
import { ChatService } from '@natter/server-core';
import { createPostgresStorage } from '@natter/storage-postgres';
import pg from 'pg';
const URL = 'postgres://postgres@127.0.0.1:5432/test';
const schema = `prof_${process.pid}`;
const storage = createPostgresStorage({ connectionString: URL, schema, writeLanes: Number(process.env.LANES ?? 2) });
await storage.open();
const service = new ChatService({ chat: storage.chat, accounts: storage.accounts, limits: DEFAULT_LIMITS, sink: { deliver() {} } });
const C = 1000;
const channels = [];
for (let i = 0; i < C; i++) {
  const a = `u${2 * i}`, b = `u${2 * i + 1}`;
  await storage.accounts.createUser({ id: a, username: a, displayName: a, passwordHash: null, createdAt: 1 });
  await storage.accounts.createUser({ id: b, username: b, displayName: b, passwordHash: null, createdAt: 1 });
  channels.push({ id: (await service.openDirect(a, b)).id, members: [a, b] });
}
const mode = process.argv[2] ?? 'send';
let serial = 0;
const one = () => {
  const c = channels[Math.floor(Math.random() * C)];
  if (mode === 'send') return service.sendMessage(c.members[0], { channelId: c.id, clientMsgId: `k${++serial}`, text: 'lorem ipsum dolor sit amet, consectetur adipiscing elit sed do' });
  const message = { id: newId(), channelId: c.id, senderId: c.members[0], clientMsgId: `k${++serial}`, kind: 'text', text: 'lorem ipsum dolor sit amet, consectetur adipiscing elit sed do', mentions: [], system: null, createdAt: Date.now() };
  return storage.chat.write((tx) => tx.appendMessage(message, c.members), { channelId: c.id });
};
const run = async (ms) => {
  let done = 0; const end = performance.now() + ms;
  await Promise.all(Array.from({ length: 100 }, async () => { while (performance.now() < end) { await one(); done++; } }));
  return done;
};
await run(1000);
const cpu0 = process.cpuUsage(); const t0 = performance.now();
const done = await run(Number(process.argv[3] ?? 5000));
const cpu = process.cpuUsage(cpu0); const secs = (performance.now() - t0) / 1000;
console.log(mode, Math.round(done / secs), '/s', ((cpu.user + cpu.system) / done).toFixed(1), 'µs CPU each');
await storage.close();
const c = new pg.Client({ connectionString: URL }); await c.connect(); await c.query(`DROP SCHEMA ${schema} CASCADE`); await c.end();
