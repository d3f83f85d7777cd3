import { rmSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { newId } from '@natter/protocol';
import { createSqliteStorage } from '@natter/storage-sqlite';
const dir = mkdtempSync(join(tmpdir(), 'exp-'));
const storage = createSqliteStorage({ path: join(dir, 'x.db'), synchronous: process.argv[2] ?? 'full' });
await storage.open();
const C = 1000;
const chans = [];
await storage.chat.write(async (tx) => {
  for (let i = 0; i < C; i++) {
    const id = newId(); chans.push({ id, members: [`a${i}`, `b${i}`] });
    await tx.insertChannel({ id, kind: 'direct', name: null, createdBy: `a${i}`, createdAt: 1, directKey: id });
    for (const u of [`a${i}`, `b${i}`]) await tx.upsertMember({ channelId: id, userId: u, role: 'member', joinedAt: 1, joinedSeq: 1, readSeq: 0, deliveredSeq: 0 });
  }
});
let serial = 0;
const one = () => { const c = chans[Math.floor(Math.random() * C)]; const m = { id: newId(), channelId: c.id, senderId: c.members[0], clientMsgId: `k${++serial}`, kind: 'text', text: 'lorem ipsum dolor sit amet, consectetur adipiscing elit sed do', mentions: [], system: null, createdAt: Date.now() };
  return storage.chat.write((tx) => tx.appendMessage(m, c.members), { channelId: c.id }); };
const N = +(process.argv[3] ?? 20000), S = 100;
const go = async (n) => { let done = 0; await Promise.all(Array.from({ length: S }, async () => { while (done < n) { done++; await one(); } })); };
await go(2000);
const c0 = process.cpuUsage(); const t0 = performance.now();
const elu0 = performance.eventLoopUtilization();
await go(N);
const ms = performance.now() - t0; const c = process.cpuUsage(c0);
const elu = performance.eventLoopUtilization(elu0);
console.log(`${N} appends in ${ms.toFixed(0)} ms = ${(N / ms * 1000).toFixed(0)}/s; CPU user ${(c.user / N).toFixed(1)} sys ${(c.system / N).toFixed(1)} µs/append; ELU ${elu.utilization.toFixed(2)} busy ${(elu.active*1000/N).toFixed(1)} µs/append`);
console.log(Object.fromEntries(Object.entries(globalThis.__T ?? {}).map(([k, v]) => [k, k.endsWith(" n") ? Number(v) : (Number(v) / 1e3 / (N + 2000)).toFixed(1)]))); await storage.close(); rmSync(dir, { recursive: true });
