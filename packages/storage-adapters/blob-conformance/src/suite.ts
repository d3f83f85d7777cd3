import { describe, it } from 'vitest';
import { blobChecks } from './checks/index.js';
import type { BlobCheck, BlobConformanceOptions } from './harness.js';
import { runBlobCheck } from './run-check.js';

/**
 * Registers the blob store conformance suite with vitest: one `describe` per area of the contract, one
 * `it` per check, each on a fresh store from `options.factory`. Call it at the top level of a test file.
 *
 * @example
 * ```ts
 * import { runBlobConformance } from '@natter/blob-conformance';
 * import { createFsBlobStore } from '@natter/blob-fs';
 *
 * runBlobConformance({
 *   name: 'fs',
 *   factory: async () => {
 *     const root = fs.mkdtempSync(path.join(os.tmpdir(), 'blobs-'));
 *     return {
 *       store: createFsBlobStore({ root }),
 *       reopen: async () => createFsBlobStore({ root }),
 *       cleanup: async () => fs.rmSync(root, { recursive: true, force: true }),
 *     };
 *   },
 * });
 * ```
 */
export function runBlobConformance(options: BlobConformanceOptions): void {
  const groups = new Map<string, BlobCheck[]>();
  for (const check of Object.values(blobChecks)) {
    groups.set(check.group, [...(groups.get(check.group) ?? []), check]);
  }
  describe(`blob store conformance: ${options.name}`, () => {
    for (const [group, checks] of groups) {
      describe(group, () => {
        for (const check of checks) {
          it(
            check.title,
            async (context) => {
              const outcome = await runBlobCheck(options.factory, check, options.scale);
              if (outcome === 'skipped') context.skip();
            },
            check.timeoutMs,
          );
        }
      });
    }
  });
}
