import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe } from 'vitest';
import { createSqliteEventStore } from '../src/sqlite-store.js';
import { eventStoreContract } from './helpers/event-store-contract.js';

describe('event store contract: sqlite', () => {
  eventStoreContract(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'natter-event-store-'));
    const make = () => createSqliteEventStore({ path: join(dir, 'events.db') });
    return {
      store: make(),
      reopen: async () => make(),
      cleanup: async () => rmSync(dir, { recursive: true, force: true }),
    };
  });
});
