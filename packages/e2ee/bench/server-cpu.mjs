/**
 * Server CPU per end-to-end encrypted message against a plaintext one, through the real server and SDK:
 * the server runs in its own process (SQLite store) and reports its `process.cpuUsage()`; two `ChatClient`s
 * (one device each) send N messages one after another in a plaintext 1-1 (WebSocket `send`) and in an
 * encrypted 1-1 (`POST /v1/channels/{id}/encrypted`), each wait for the receiver to read the last one. The
 * server's CPU time over each run, divided by N, is the figure. Needs the packages built; run
 * `node packages/e2ee/bench/server-cpu.mjs` (N=300 by default, `N=1000` for a longer run). A shared machine:
 * compare the two columns of one run.
 */
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const N = Number(process.env.N ?? 300);

if (process.argv[2] === 'server') {
  const { createNatterServer, silentLogger } = await import('@natter/server-core');
  const { createSqliteStorage } = await import('@natter/storage-sqlite');
  const dir = mkdtempSync(join(tmpdir(), 'natter-e2ee-cpu-'));
  const server = createNatterServer({
    storage: createSqliteStorage({ path: join(dir, 'natter.db') }),
    tokens: { secret: 'bench-secret-bench-secret-bench-secret-01' },
    logger: silentLogger(),
    limits: { sendsPerSecond: 10_000, sendBurst: 10_000 },
  });
  const { url } = await server.listen(0, '127.0.0.1');
  process.on('message', async (m) => {
    if (m === 'cpu') process.send({ cpu: process.cpuUsage() });
    if (m === 'stop') {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
      process.exit(0);
    }
  });
  process.send({ url });
} else {
  const { ChatClient } = await import('@natter/client');
  const WebSocket = (await import('ws')).default;
  const child = fork(fileURLToPath(import.meta.url), ['server']);
  const ask = (m) =>
    new Promise((resolve) => {
      child.once('message', resolve);
      if (m) child.send(m);
    });
  const { url } = await ask();
  const cpu = async () => {
    const { cpu } = await ask('cpu');
    return cpu.user + cpu.system;
  };
  const client = () => new ChatClient({ url, WebSocket, e2ee: { keyPackageTarget: 5 } });
  const ada = client();
  const bob = client();
  await ada.signup('benchada', 'correct horse battery staple');
  await bob.signup('benchbob', 'correct horse battery staple');
  for (const c of [ada, bob]) {
    await c.connect();
    await c.whenSynced();
    await c.e2ee();
  }
  const plain = await ada.openDirect(bob.userId);
  const secret = await ada.openDirect(bob.userId, { encrypted: true });
  const seen = new Map();
  bob.on('message', ({ message }) => seen.set(message.channelId, message.text));
  const waitFor = async (channelId, text) => {
    while (seen.get(channelId) !== text) await new Promise((r) => setTimeout(r, 2));
  };
  const run = async (channelId, label) => {
    for (let i = 0; i < 20; i++) await ada.send(channelId, `warm-up ${i}`).acked;
    await waitFor(channelId, 'warm-up 19');
    const before = await cpu();
    const t0 = performance.now();
    for (let i = 0; i < N; i++) await ada.send(channelId, `${label} message ${i} ${'x'.repeat(120)}`).acked;
    await waitFor(channelId, `${label} message ${N - 1} ${'x'.repeat(120)}`);
    const wallMs = performance.now() - t0;
    const serverUs = (await cpu()) - before;
    return { serverCpuUsPerMessage: Math.round(serverUs / N), wallMsPerMessage: +(wallMs / N).toFixed(2) };
  };
  const plaintext = await run(plain.id, 'plain');
  const encrypted = await run(secret.id, 'secret');
  console.log(
    JSON.stringify(
      {
        N,
        plaintext,
        encrypted,
        ratio: +(encrypted.serverCpuUsPerMessage / plaintext.serverCpuUsPerMessage).toFixed(2),
      },
      null,
      2,
    ),
  );
  await ada.close();
  await bob.close();
  child.send('stop');
}
