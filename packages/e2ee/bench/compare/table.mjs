/** Prints a comparison result (results/*.json shape) as a Markdown table. */
const ms = (x) => (x === undefined ? 'n/a' : x < 10 ? x.toFixed(2) : x.toFixed(0));
const kb = (x) => (x === undefined ? 'n/a' : (x / 1024).toFixed(1));

export function printTable({ environment, runs }) {
  const name = (r) => (r.provider ? `${r.library} (${r.provider})` : r.library);
  console.log(`\n${environment}\n`);
  console.log(`| figure | ${runs.map(name).join(' | ')} |`);
  console.log(`| --- | ${runs.map(() => '---').join(' | ')} |`);
  const row = (label, f) => console.log(`| ${label} | ${runs.map(f).join(' | ')} |`);
  row('KeyPackage: make (ms)', (r) => ms(r.keyPackageMs));
  for (const [i, add] of runs[0].adds.entries()) {
    const n = add.devices;
    row(`add ${n}: commit (ms)`, (r) => ms(r.adds[i]?.commitMs));
    row(
      `add ${n}: commit + Welcome (KB)`,
      (r) => `${kb(r.adds[i]?.commitBytes)} + ${kb(r.adds[i]?.welcomeBytes)}`,
    );
    row(`add ${n}: member processes commit (ms)`, (r) => ms(r.adds[i]?.processCommitMs));
    row(`add ${n}: new device joins (ms)`, (r) => ms(r.adds[i]?.joinFromWelcomeMs));
    row(`add ${n}: group state (KB)`, (r) => kb(r.adds[i]?.stateBytes));
  }
  row('encrypt 200 B, 102 devices (ms, median)', (r) => ms(r.message.encryptMs));
  row('decrypt 200 B (ms, median)', (r) => ms(r.message.decryptMs));
  row('ciphertext of 200 B (bytes)', (r) => r.message.ciphertextBytes);
  if (runs.some((r) => r.initMs !== undefined))
    row('load WebAssembly before first use (ms)', (r) => ms(r.initMs));
  for (const r of runs)
    if (r.build)
      console.log(`\n${r.library}: ${r.build}${r.nativeError ? `; native failed: ${r.nativeError}` : ''}`);
}

const med = (xs) => {
  const s = xs.filter((x) => typeof x === 'number').sort((a, b) => a - b);
  return s.length ? s[Math.floor(s.length / 2)] : undefined;
};

/** Merges repeated runs of one library into one, each figure the median of its repetitions. */
export function medianOfRuns(repeats) {
  const first = repeats[0];
  const pick = (get) => med(repeats.map(get));
  return {
    ...first,
    repetitions: repeats.length,
    keyPackageMs: pick((r) => r.keyPackageMs),
    adds: first.adds.map((a, i) => ({
      devices: a.devices,
      commitMs: pick((r) => r.adds[i].commitMs),
      commitBytes: pick((r) => r.adds[i].commitBytes),
      welcomeBytes: pick((r) => r.adds[i].welcomeBytes),
      processCommitMs: pick((r) => r.adds[i].processCommitMs),
      joinFromWelcomeMs: pick((r) => r.adds[i].joinFromWelcomeMs),
      stateBytes: pick((r) => r.adds[i].stateBytes),
    })),
    message: {
      ...first.message,
      encryptMs: pick((r) => r.message.encryptMs),
      decryptMs: pick((r) => r.message.decryptMs),
    },
  };
}
