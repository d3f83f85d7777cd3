import type { ResumableUploadRegistry } from './media.js';

/** The part of the client store resumable uploads need: small string values that survive restarts. */
export interface ResumeStore {
  getMeta(key: string): Promise<string | undefined>;
  setMeta(key: string, value: string): Promise<void>;
}

/** Meta key holding every unfinished tus upload's URL, as one JSON object keyed by fingerprint. */
export const RESUMABLE_UPLOADS_META_KEY = 'natter.resumableUploads';

/**
 * How long a saved URL is worth trying: the server expires an unfinished upload 24 h after its creation
 * (its unattached TTL); an older URL would only answer 404 and cost a round trip.
 */
export const RESUME_ENTRY_TTL_MS = 86_400_000;

/** At most this many unfinished uploads are remembered (the oldest are forgotten first). */
export const MAX_RESUME_ENTRIES = 50;

interface ResumeEntry {
  url: string;
  savedAt: number;
}

/**
 * The tus URLs of unfinished uploads, persisted in the client store (memory, IndexedDB, LevelDB) under one
 * meta key, so an upload interrupted by a reload, an app restart or `close()` resumes from the server's
 * offset in the next client instance instead of starting over. Keyed by {@link uploadFingerprint}: the same
 * bytes, for the same user and server, find the same upload. Updates within one instance are serialised;
 * two instances writing at once may lose an entry, which only costs that upload its resume.
 */
export class ResumableUploads implements ResumableUploadRegistry {
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly store: ResumeStore,
    private readonly now: () => number = Date.now,
  ) {}

  /** The URL saved for `fingerprint`, unless it is older than the server keeps unfinished uploads. */
  async find(fingerprint: string): Promise<string | undefined> {
    const entry = (await this.read())[fingerprint];
    return entry && entry.savedAt > this.now() - RESUME_ENTRY_TTL_MS ? entry.url : undefined;
  }

  /** Remembers the URL the server gave the upload of `fingerprint` (replacing an older one). */
  save(fingerprint: string, url: string): Promise<void> {
    const savedAt = this.now();
    return this.update((entries) => {
      entries[fingerprint] = { url, savedAt };
    });
  }

  /** Forgets the upload of `fingerprint` (finished, refused, or cancelled by the user). */
  forget(fingerprint: string): Promise<void> {
    return this.update((entries) => {
      delete entries[fingerprint];
    });
  }

  private update(change: (entries: Record<string, ResumeEntry>) => void): Promise<void> {
    const run = this.queue.then(async () => {
      const entries = await this.read();
      change(entries);
      const cutoff = this.now() - RESUME_ENTRY_TTL_MS;
      const kept = Object.entries(entries)
        .filter(([, entry]) => entry.savedAt > cutoff)
        .sort(([, a], [, b]) => b.savedAt - a.savedAt)
        .slice(0, MAX_RESUME_ENTRIES);
      await this.store.setMeta(RESUMABLE_UPLOADS_META_KEY, JSON.stringify(Object.fromEntries(kept)));
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async read(): Promise<Record<string, ResumeEntry>> {
    const text = await this.store.getMeta(RESUMABLE_UPLOADS_META_KEY);
    if (!text) return {};
    try {
      const parsed = JSON.parse(text) as unknown;
      if (!parsed || typeof parsed !== 'object') return {};
      const entries: Record<string, ResumeEntry> = {};
      for (const [key, value] of Object.entries(parsed as Record<string, unknown>)) {
        const entry = value as Partial<ResumeEntry> | null;
        if (typeof entry?.url === 'string' && typeof entry.savedAt === 'number')
          entries[key] = { url: entry.url, savedAt: entry.savedAt };
      }
      return entries;
    } catch {
      // A damaged value only costs the resumes it held.
      return {};
    }
  }
}

/**
 * The key of an upload in {@link ResumableUploads}: the SHA-256 of the bytes, with the user and the server
 * they go to (another account on the same device must not be offered someone else's upload URL; the server
 * would refuse it anyway).
 */
export async function uploadFingerprint(baseUrl: string, userId: string, bytes: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>));
  let hex = '';
  for (const byte of digest) hex += byte.toString(16).padStart(2, '0');
  return `${baseUrl}|${userId}|${hex}`;
}
