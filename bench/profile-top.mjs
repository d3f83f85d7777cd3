import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

/**
 * Summarises `--cpu-prof` output (written by `npm run bench -- --profile` to bench/results/profiles/):
 * the functions with the most self time, as file:line function, so a missed goal can be traced.
 *   node bench/profile-top.mjs [dir-or-file ...] [--top=25]
 */
const argv = process.argv.slice(2);
const top = Number(argv.find((a) => a.startsWith('--top='))?.slice(6) ?? 25);
// --by=package groups self time by package (node_modules/x, packages/x, node:internal, native).
const byPackage = argv.includes('--by=package');
const targets = argv.filter((a) => !a.startsWith('--'));
const files = (targets.length ? targets : ['bench/results/profiles']).flatMap(collect);

function collect(path) {
  if (!statSync(path).isDirectory()) return path.endsWith('.cpuprofile') ? [path] : [];
  return readdirSync(path).flatMap((f) => collect(join(path, f)));
}

const cwd = process.cwd();
const where = (frame) => {
  const url = frame.url.replace(/^file:\/\//, '');
  const file = url ? relative(cwd, url) : '(native)';
  return `${file}:${frame.lineNumber + 1} ${frame.functionName || '(anonymous)'}`;
};

function packageOf(frame) {
  const url = frame.url.replace(/^file:\/\//, '');
  if (!url) return `(native) ${frame.functionName}`;
  if (url.startsWith('node:')) return 'node: internals';
  const m =
    url.match(/node_modules\/((?:@[^/]+\/)?[^/]+)/) ?? url.match(/(packages\/(?:storage-adapters\/)?[^/]+)/);
  return m ? m[1] : relative(cwd, url);
}

for (const file of files) {
  const profile = JSON.parse(readFileSync(file, 'utf8'));
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const dt = new Map();
  // Self time per node: each sample is charged the interval until the next sample.
  profile.samples.forEach((id, i) => {
    dt.set(id, (dt.get(id) ?? 0) + (profile.timeDeltas[i + 1] ?? 0));
  });
  const self = new Map();
  let total = 0;
  for (const [id, us] of dt) {
    const frame = byId.get(id).callFrame;
    const key = byPackage ? packageOf(frame) : where(frame);
    self.set(key, (self.get(key) ?? 0) + us);
    total += us;
  }
  const idle = ['(idle)', '(program)', '(garbage collector)'];
  console.log(`\n${relative(cwd, file)}: ${(total / 1e6).toFixed(2)} s sampled`);
  for (const [key, us] of [...self].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    const mark = idle.some((x) => key.includes(x)) ? ' ' : '*';
    console.log(
      `${mark} ${((100 * us) / total).toFixed(1).padStart(5)}%  ${(us / 1000).toFixed(0).padStart(7)} ms  ${key}`,
    );
  }
}
