import { ErrorCode, MEDIA_LIMITS, NatterError } from '@natter/protocol';
import type { Authenticator } from '../../ports/authenticator.js';
import type { MediaPlug, MediaViewer } from '../../ports/media.js';
import type { RouteHandlers } from '../router.js';

const BEARER = /^Bearer +(\S+) *$/i;

/**
 * Uploads, downloads and signed URLs; not mounted (404) when the server has no media. Downloads take a
 * bearer token or a signed URL (an `<img src>` cannot send a header, and a token in a URL ends up in logs).
 */
export function mediaHandlers(media: MediaPlug, authenticator: Authenticator): RouteHandlers {
  async function viewerOf(
    request: Request,
    url: URL,
    query: { exp?: number; sig?: string },
  ): Promise<MediaViewer> {
    const match = BEARER.exec(request.headers.get('authorization') ?? '');
    if (match) return { kind: 'user', userId: (await authenticator.authenticate(match[1]!)).userId };
    if (query.exp !== undefined && query.sig !== undefined) {
      // A bad or expired signature answers like a missing file: a URL must not tell what exists.
      if (!media.verifySignedUrl(url.pathname, query.exp, query.sig)) {
        throw new NatterError(ErrorCode.NOT_FOUND, 'media not found');
      }
      return { kind: 'signed' };
    }
    throw new NatterError(ErrorCode.UNAUTHORIZED, 'missing bearer token or signed URL');
  }

  return {
    uploadMedia: async ({ ctx, principal, query }) => {
      const body = await media.upload(ctx.request, principal.userId, query.filename);
      return new Response(JSON.stringify(body), {
        status: 201,
        headers: { 'content-type': 'application/json', location: `/v1/media/${body.id}` },
      });
    },
    getMedia: async ({ ctx, params, query }) => {
      const viewer = await viewerOf(ctx.request, ctx.url, query);
      return media.download(ctx.request, viewer, params.id!, { kind: 'file' });
    },
    getThumbnail: async ({ ctx, params, query }) => {
      const viewer = await viewerOf(ctx.request, ctx.url, query);
      return media.download(ctx.request, viewer, params.id!, { kind: 'thumbnail', size: query.size });
    },
    mediaUrl: async ({ principal, params, body }) =>
      media.signUrl(
        principal.userId,
        params.id!,
        body.thumbnailSize,
        body.ttlMs ?? MEDIA_LIMITS.defaultSignedUrlTtlMs,
      ),
  };
}
