#!/usr/bin/env node
// The public API of every published package, as API Extractor reports (api-report/*.api.md), checked in.
// `npm run api:report` rewrites them after a build; `npm run api:check` (CI) fails when the built public
// surface differs from the checked-in report, so no export changes without the report showing it.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Extractor, ExtractorConfig } from '@microsoft/api-extractor';

const root = fileURLToPath(new URL('..', import.meta.url));
const check = process.argv.includes('--check');
const reportFolder = path.join(root, 'api-report');
const tempFolder = fs.mkdtempSync(path.join(os.tmpdir(), 'natter-api-'));
fs.mkdirSync(reportFolder, { recursive: true });

const rootPkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
const packageDirs = rootPkg.workspaces
  .flatMap((pattern) =>
    pattern.endsWith('/*')
      ? fs.readdirSync(path.join(root, pattern.slice(0, -2))).map((d) => path.join(pattern.slice(0, -2), d))
      : [pattern],
  )
  .map((dir) => path.join(root, dir))
  .filter((dir) => fs.existsSync(path.join(dir, 'package.json')));

let changed = 0;
let reports = 0;
for (const dir of packageDirs) {
  const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));
  if (pkg.private || !pkg.exports) continue;
  for (const [subpath, target] of Object.entries(pkg.exports)) {
    const types = target?.import?.types;
    if (typeof types !== 'string') continue;
    const entry = subpath === '.' ? '' : `-${subpath.slice(2).replaceAll('/', '-')}`;
    const reportFileName = `${pkg.name.replace('@natter/', '')}${entry}.api.md`;
    const config = ExtractorConfig.prepare({
      configObject: {
        projectFolder: dir,
        mainEntryPointFilePath: path.join(dir, types),
        compiler: {
          overrideTsconfig: {
            compilerOptions: { strict: true, skipLibCheck: true, lib: ['ES2022', 'DOM'], types: ['node'] },
          },
        },
        apiReport: { enabled: true, reportFolder, reportTempFolder: tempFolder, reportFileName },
        docModel: { enabled: false },
        dtsRollup: { enabled: false },
        tsdocMetadata: { enabled: false },
        messages: {
          compilerMessageReporting: { default: { logLevel: 'warning' } },
          extractorMessageReporting: { default: { logLevel: 'none' } },
          tsdocMessageReporting: { default: { logLevel: 'none' } },
        },
      },
      configObjectFullPath: undefined,
      packageJsonFullPath: path.join(dir, 'package.json'),
    });
    const result = Extractor.invoke(config, { localBuild: !check, showVerboseMessages: false });
    reports++;
    if (result.apiReportChanged) {
      changed++;
      console.log(`${check ? 'CHANGED' : 'updated'}: api-report/${reportFileName}`);
    }
  }
}
fs.rmSync(tempFolder, { recursive: true, force: true });
if (check && changed > 0) {
  console.error(
    `\n${changed} public API report(s) differ from the build: review the change, run \`npm run api:report\` and commit api-report/.`,
  );
  process.exit(1);
}
console.log(`${reports} API reports ${check ? 'match the build' : 'written'}.`);
