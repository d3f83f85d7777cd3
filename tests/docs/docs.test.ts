import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { generatedTables, regenerate, tablesIn } from './tables.js';

const docs = (name: string) => fileURLToPath(new URL(`../../docs/${name}`, import.meta.url));
const PAGES = [
  'protocol.md',
  'api.md',
  'client.md',
  'scaling.md',
  'adapters.md',
  'server-api.md',
  'security.md',
];

/**
 * The docs tables are generated from `@natter/protocol` (error codes, close codes, limits, frames, entry
 * kinds, routes). `npm run docs:tables` rewrites them; this test fails when a page is out of date.
 */
describe('generated docs tables', () => {
  for (const page of PAGES) {
    it(`${page} matches the protocol package`, () => {
      const path = docs(page);
      const current = readFileSync(path, 'utf8');
      const fresh = regenerate(current);
      if (process.env.UPDATE_DOCS === '1' && fresh !== current) writeFileSync(path, fresh);
      else expect(current, `${page} is out of date: run npm run docs:tables`).toBe(fresh);
    });
  }

  it('places every generated table on some page', () => {
    const placed = new Set(PAGES.flatMap((page) => tablesIn(readFileSync(docs(page), 'utf8'))));
    expect([...placed].sort()).toEqual(Object.keys(generatedTables()).sort());
  });
});
