/**
 * The multicore pieces of `natter` (`NATTER_WORKERS` > 1), built to `dist/multicore.js` for the bench's
 * `natter-sqlite-multicore` system. Not a published API: the package's only entry is the command.
 */
export { connectWorkerParts, MulticoreHub, type WorkerParts } from './hub.js';
export { nodeIpcPort } from './port.js';
