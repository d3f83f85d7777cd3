import type { ChatClient } from '@natter/client';

/** Signed URLs last an hour on the server's default; ask again well before that. */
const REUSE_MS = 50 * 60_000;

/**
 * Signed media URLs (`client.mediaUrl`), one request per file and size while one is fresh, so a row that
 * scrolls back into view shows its image from the browser's cache instead of asking again.
 */
export class MediaUrls {
  private readonly urls = new Map<string, { url: Promise<string>; at: number }>();

  constructor(
    private readonly client: ChatClient,
    private readonly now: () => number = Date.now,
  ) {}

  /** The URL of an upload, or of its thumbnail of `thumbnailSize`. */
  get(mediaId: string, thumbnailSize?: number): Promise<string> {
    const key = `${mediaId}:${thumbnailSize ?? 'full'}`;
    const cached = this.urls.get(key);
    if (cached && this.now() - cached.at < REUSE_MS) return cached.url;
    const url = this.client.mediaUrl(mediaId, thumbnailSize === undefined ? {} : { thumbnailSize });
    this.urls.set(key, { url, at: this.now() });
    url.catch(() => this.urls.delete(key));
    return url;
  }
}
