import type {
  ModerationEntry,
  ModerationReads,
  ModerationRecord,
  ModerationWrites,
} from '@natter/server-core';
import { key } from './keys.js';
import type { SnapshotReader } from './reader.js';
import type { StagedView } from './staging.js';

/** Above every moderation key character (ASCII id characters and `/`): the end of a prefix's range. */
const RANGE_END = '\x7f';
const STORED_PREFIX = key.moderation('');

function page(
  rows: ReadonlyArray<[string, ModerationRecord]>,
  after: string | undefined,
  limit: number,
): ModerationEntry[] {
  const entries: ModerationEntry[] = [];
  for (const [stored, record] of rows) {
    const moderationKey = stored.slice(STORED_PREFIX.length);
    if (after !== undefined && moderationKey <= after) continue;
    if (entries.length >= limit) break;
    entries.push({ key: moderationKey, record });
  }
  return entries;
}

/** Committed moderation rows (`chat.moderation`), each read on one snapshot. */
export class LevelModerationReads implements ModerationReads {
  constructor(private readonly read: <T>(fn: (reader: SnapshotReader) => Promise<T>) => Promise<T>) {}

  get(moderationKey: string): Promise<ModerationRecord | undefined> {
    return this.read((r) => r.get<ModerationRecord>(key.moderation(moderationKey)));
  }

  list(prefix: string, after: string | undefined, limit: number): Promise<ModerationEntry[]> {
    const from = key.moderation(after !== undefined && after > prefix ? after : prefix);
    return this.read(async (r) =>
      page(
        await r.entries<ModerationRecord>({
          gte: from,
          lt: key.moderation(prefix + RANGE_END),
          limit: limit + 1,
        }),
        after,
        limit,
      ),
    );
  }
}

/**
 * Moderation rows inside a write (`tx.moderation`), staged with the rest of the batch. One writer runs
 * the store's writes in turn, so a read here is serialised with every other write of the key.
 */
export class LevelModerationWrites implements ModerationWrites {
  constructor(
    private readonly view: StagedView,
    private readonly assertActive: () => void,
  ) {}

  async get(moderationKey: string): Promise<ModerationRecord | undefined> {
    this.assertActive();
    return this.view.get<ModerationRecord>(key.moderation(moderationKey));
  }

  async list(prefix: string, after: string | undefined, limit: number): Promise<ModerationEntry[]> {
    this.assertActive();
    const rows = await this.view.scan<ModerationRecord>(
      key.moderation(prefix),
      key.moderation(prefix + RANGE_END),
    );
    return page(rows, after, limit);
  }

  async put(moderationKey: string, record: ModerationRecord): Promise<void> {
    this.assertActive();
    this.view.put(key.moderation(moderationKey), record);
  }

  async delete(moderationKey: string): Promise<boolean> {
    this.assertActive();
    const stored = key.moderation(moderationKey);
    const existed = (await this.view.get(stored)) !== undefined;
    if (existed) this.view.del(stored);
    return existed;
  }
}
