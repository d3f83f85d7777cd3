import { ErrorCode, NatterError } from '@natter/protocol';
import { type BlobStore, type ByteRange, isBlobError } from '@natter/server-core';
import { contentDisposition } from './filename.js';
import { isInlineSafe, OPAQUE_TYPE } from './sniff.js';

/** What one download serves: a blob with the headers that describe it. */
export interface Servable {
  key: string;
  mime: string;
  filename: string;
}

/** Media responses never run as a document: no scripts, no plugins, no same-origin access. */
const CSP = "sandbox; default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'";
const IMMUTABLE = 'private, max-age=31536000, immutable';

/** A NatterError with extra response headers (the HTTP API copies `headers` onto the error response). */
function withHeaders(error: NatterError, headers: Record<string, string>): NatterError {
  return Object.assign(error, { headers });
}

/**
 * Parses one `Range: bytes=` range; undefined for none, and for forms served whole (several ranges, other
 * units), as RFC 9110 allows. A malformed single range is ignored too.
 */
export function parseRange(header: string | null): ByteRange | undefined {
  const match = header ? /^bytes=(\d*)-(\d*)$/.exec(header.trim()) : null;
  if (!match) return undefined;
  const [, from, to] = match;
  if (from === '' && to === '') return undefined;
  if (from === '') return { suffix: Number(to) };
  const start = Number(from);
  if (to === '') return { start };
  const end = Number(to);
  return end < start ? undefined : { start, end };
}

function securityHeaders(item: Servable): Record<string, string> {
  const inline = isInlineSafe(item.mime);
  return {
    // Anything but a re-encoded raster image is a download: never rendered by the browser as a page.
    'content-type': inline ? item.mime : OPAQUE_TYPE,
    'content-disposition': contentDisposition(item.filename, inline),
    'x-content-type-options': 'nosniff',
    'content-security-policy': CSP,
    'cross-origin-resource-policy': 'same-site',
  };
}

/**
 * Answers a download: 304 for a matching `If-None-Match`, a redirect to a presigned URL when `presignTtlS`
 * is set and the store can presign, else the bytes (206 for a `Range`).
 */
export async function serveBlob(
  request: Request,
  blobs: BlobStore,
  item: Servable,
  presignTtlS: number | undefined,
): Promise<Response> {
  const etag = `"${item.key}"`;
  const headers = securityHeaders(item);
  const match = request.headers.get('if-none-match');
  if (match?.split(',').some((tag) => tag.trim().replace(/^W\//, '') === etag)) {
    return new Response(null, { status: 304, headers: { etag, 'cache-control': IMMUTABLE } });
  }
  if (presignTtlS !== undefined && blobs.presignGet) {
    const url = await blobs.presignGet(item.key, {
      ttlSeconds: presignTtlS,
      contentType: headers['content-type']!,
      contentDisposition: headers['content-disposition']!,
    });
    // The redirect itself must not outlive the presigned URL in any cache.
    return new Response(null, {
      status: 302,
      headers: { location: url, 'cache-control': 'private, no-store' },
    });
  }
  const range = parseRange(request.headers.get('range'));
  let read: Awaited<ReturnType<BlobStore['get']>>;
  try {
    read = await blobs.get(item.key, range);
  } catch (error) {
    if (isBlobError(error, 'NATTER_BLOB_RANGE_NOT_SATISFIABLE')) {
      throw withHeaders(new NatterError(ErrorCode.RANGE_NOT_SATISFIABLE, 'range outside the file'), {
        'content-range': `bytes */${error.size ?? 0}`,
      });
    }
    throw error;
  }
  if (!read) throw new NatterError(ErrorCode.NOT_FOUND, 'media not found');
  const length = read.size === 0 ? 0 : read.end - read.start + 1;
  const common = {
    ...headers,
    etag,
    'cache-control': IMMUTABLE,
    'accept-ranges': 'bytes',
    'content-length': String(length),
  };
  if (range) {
    return new Response(read.body, {
      status: 206,
      headers: { ...common, 'content-range': `bytes ${read.start}-${read.end}/${read.size}` },
    });
  }
  return new Response(read.body, { status: 200, headers: common });
}
