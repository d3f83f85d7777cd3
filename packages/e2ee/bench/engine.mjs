/**
 * Figures of natter's MLS engine (`@natter/e2ee` over ts-mls) through its port, for the bench and
 * docs/e2ee.md: time and bytes of a commit adding 2, 10 and 100 devices, processing it and joining from its
 * Welcome, encrypting and decrypting a message, and the size of the exported engine state. Needs the package
 * built (`npm run build`); run `node packages/e2ee/bench/engine.mjs`. Medians of REPEAT runs (default 3) on
 * a shared machine: provisional; compare figures within one run.
 */
import { createTsMlsEngine } from '../dist/index.js';

const REPEAT = Number(process.env.REPEAT ?? 3);
const utf8 = new TextEncoder();
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const time = async (fn) => {
  const t0 = performance.now();
  const value = await fn();
  return [performance.now() - t0, value];
};

async function addRun(n) {
  const creator = await createTsMlsEngine({ device: { userId: 'creator', deviceId: 'd' } });
  const member = await createTsMlsEngine({ device: { userId: 'member', deviceId: 'd' } });
  await creator.createGroup('ch');
  await creator.addDevices('ch', await member.generateKeyPackages(1)).then(async (p) => {
    await creator.confirmCommit('ch');
    await member.joinFromWelcome(p.welcome);
  });
  const joiners = [];
  const kps = [];
  for (let i = 0; i < n; i++) {
    const j = await createTsMlsEngine({ device: { userId: `u${i}`, deviceId: 'd' } });
    joiners.push(j);
    kps.push(...(await j.generateKeyPackages(1)));
  }
  const [commitMs, pending] = await time(() => creator.addDevices('ch', kps));
  await creator.confirmCommit('ch');
  const [processMs] = await time(() => member.processCommit('ch', pending.commit));
  const [joinMs] = await time(() => joiners[0].joinFromWelcome(pending.welcome));
  const enc = [];
  const dec = [];
  for (let i = 0; i < 30; i++) {
    const [e, bytes] = await time(() => creator.encrypt('ch', utf8.encode('x'.repeat(200))));
    const [d] = await time(() => member.decrypt('ch', bytes));
    enc.push(e);
    dec.push(d);
  }
  const ciphertext = await creator.encrypt('ch', utf8.encode('x'.repeat(200)));
  return {
    devices: n,
    commitMs,
    commitBytes: pending.commit.length,
    welcomeBytes: pending.welcome.length,
    groupInfoBytes: pending.groupInfo.length,
    processCommitMs: processMs,
    joinFromWelcomeMs: joinMs,
    encryptMs: median(enc),
    decryptMs: median(dec),
    ciphertextBytes: ciphertext.length,
    stateBytes: (await creator.exportState()).length,
  };
}

await addRun(2); // warm-up
const rows = [];
for (const n of [2, 10, 100]) {
  const runs = [];
  for (let i = 0; i < REPEAT; i++) runs.push(await addRun(n));
  const row = { devices: n };
  for (const k of Object.keys(runs[0]).filter((k) => k !== 'devices')) row[k] = median(runs.map((r) => r[k]));
  rows.push(row);
}
const f = (x) => (x < 10 ? x.toFixed(2) : x.toFixed(0));
console.log(`@natter/e2ee (ts-mls 1.6.4, noble provider), Node ${process.version}, median of ${REPEAT}\n`);
console.log(
  '| devices added | commit (ms) | commit / Welcome / GroupInfo (bytes) | member processes (ms) | new device joins (ms) | encrypt / decrypt 200 B (ms) | engine state (bytes) |',
);
console.log('| --- | --- | --- | --- | --- | --- | --- |');
for (const r of rows)
  console.log(
    `| ${r.devices} | ${f(r.commitMs)} | ${r.commitBytes} / ${r.welcomeBytes} / ${r.groupInfoBytes} | ${f(r.processCommitMs)} | ${f(r.joinFromWelcomeMs)} | ${f(r.encryptMs)} / ${f(r.decryptMs)} | ${r.stateBytes} |`,
  );
