import type {
  ModerationEntry,
  ModerationReads,
  ModerationRecord,
  ModerationWrites,
} from '@natter/server-core';
import type { Staging } from './staging.js';
import type { MemoryState } from './state.js';

/** Rows under `prefix` after `after`, ascending by key, at most `limit`, from the merged view `rows`. */
function range(
  rows: Iterable<[string, ModerationRecord]>,
  prefix: string,
  after: string | undefined,
  limit: number,
): ModerationEntry[] {
  const found: ModerationEntry[] = [];
  for (const [key, record] of rows) {
    if (key.startsWith(prefix) && (after === undefined || key > after)) {
      found.push({ key, record: structuredClone(record) });
    }
  }
  found.sort((a, b) => (a.key < b.key ? -1 : 1));
  return found.slice(0, limit);
}

/** Committed moderation rows (`chat.moderation`). */
export class MemoryModerationReads implements ModerationReads {
  constructor(private readonly state: MemoryState) {}

  async get(key: string): Promise<ModerationRecord | undefined> {
    const record = this.state.moderation.get(key);
    return record && structuredClone(record);
  }

  async list(prefix: string, after: string | undefined, limit: number): Promise<ModerationEntry[]> {
    return range(this.state.moderation, prefix, after, limit);
  }
}

/**
 * Moderation rows inside a write (`tx.moderation`): staged with the rest of the write. The memory store
 * runs one write at a time, so a read here is already serialised with every other write of the key.
 */
export class MemoryModerationWrites implements ModerationWrites {
  constructor(
    private readonly staging: Staging,
    private readonly assertActive: () => void,
  ) {}

  async get(key: string): Promise<ModerationRecord | undefined> {
    this.assertActive();
    const record = this.staging.moderationRow(key);
    return record && structuredClone(record);
  }

  async list(prefix: string, after: string | undefined, limit: number): Promise<ModerationEntry[]> {
    this.assertActive();
    const merged = new Map(this.staging.base.moderation);
    for (const [key, record] of this.staging.moderation) {
      if (record === null) merged.delete(key);
      else merged.set(key, record);
    }
    return range(merged, prefix, after, limit);
  }

  async put(key: string, record: ModerationRecord): Promise<void> {
    this.assertActive();
    this.staging.moderation.set(key, structuredClone(record));
  }

  async delete(key: string): Promise<boolean> {
    this.assertActive();
    const existed = this.staging.moderationRow(key) !== undefined;
    this.staging.moderation.set(key, null);
    return existed;
  }
}
