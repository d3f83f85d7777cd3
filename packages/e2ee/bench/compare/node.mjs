/**
 * The library comparison in Node: ts-mls (WebCrypto and pure-JS providers) and @wireapp/core-crypto, the
 * same scenario each, one after the other in one process. Writes results/node.json and prints a table.
 * Run from this directory after `npm install`: `node node.mjs` (about 20 s). Timings on a shared 2-core
 * machine are provisional; compare the libraries within one run.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadCoreCryptoInNode } from './core-crypto-node.mjs';
import { runCoreCrypto } from './scenario-core-crypto.mjs';
import { runTsMls } from './scenario-ts-mls.mjs';
import { medianOfRuns, printTable } from './table.mjs';

const REPEAT = Number(process.env.REPEAT ?? 3);
/** A warm-up pass (JIT, WebAssembly compilation), then REPEAT runs whose figures are medians. */
async function measure(run) {
  await run({ sizes: [2], messages: 5 });
  const repeats = [];
  for (let i = 0; i < REPEAT; i++) repeats.push(await run({}));
  return medianOfRuns(repeats);
}
const { cc, build, nativeError } = await loadCoreCryptoInNode();
const runs = [
  await measure((o) => runTsMls({ ...o, provider: 'webcrypto' })),
  await measure((o) => runTsMls({ ...o, provider: 'noble' })),
  { ...(await measure((o) => runCoreCrypto(cc, o))), build, nativeError },
];

const out = { environment: `Node ${process.version}`, date: new Date().toISOString(), runs };
mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
writeFileSync(new URL('./results/node.json', import.meta.url), `${JSON.stringify(out, null, 2)}\n`);
printTable(out);
