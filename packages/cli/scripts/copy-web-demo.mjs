// Copies the built web demo into dist/web, so the published command serves it without the (private)
// @natter/web-demo workspace package. Skips quietly when the demo was not built (the API still runs).
import { cpSync, existsSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const source = fileURLToPath(new URL('../../../examples/web-demo/dist', import.meta.url));
const target = fileURLToPath(new URL('../dist/web', import.meta.url));
rmSync(target, { recursive: true, force: true });
if (existsSync(source)) cpSync(source, target, { recursive: true });
else console.warn(`web demo not built (${source}); the command will serve the API only`);
