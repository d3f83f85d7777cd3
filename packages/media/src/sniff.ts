import { fileTypeFromBuffer } from 'file-type';
import type { MediaKind } from './types.js';

/** Bytes file-type needs to recognise every format it knows. */
export const SNIFF_BYTES = 4100;

/** The type given to bytes no format matches: stored as an opaque attachment, never shown inline. */
export const OPAQUE_TYPE = 'application/octet-stream';

/**
 * Raster formats the pipeline decodes and re-encodes (and only these are served inline later).
 * Anything else, SVG and HTML included, is an opaque attachment: SVG and HTML are text, which
 * file-type does not claim, so they sniff as `application/octet-stream` whatever their name or header.
 */
const PROCESSED_IMAGES = new Set(['image/jpeg', 'image/png', 'image/webp', 'image/gif', 'image/avif']);

/** The type of `head` (the first bytes of an upload) and how the pipeline treats it. */
export async function sniff(head: Uint8Array): Promise<{ mime: string; ext: string; kind: MediaKind }> {
  const found = await fileTypeFromBuffer(head);
  const mime = found?.mime ?? OPAQUE_TYPE;
  const ext = found?.ext ?? 'bin';
  if (PROCESSED_IMAGES.has(mime)) return { mime, ext, kind: 'image' };
  if (mime.startsWith('video/')) return { mime, ext, kind: 'video' };
  return { mime, ext, kind: 'file' };
}

/**
 * True for the types a server may serve inline (`Content-Disposition: inline`): the raster images
 * this pipeline re-encoded. Everything else must be served as an attachment with `nosniff`.
 */
export function isInlineSafe(mime: string): boolean {
  return PROCESSED_IMAGES.has(mime);
}

/** True when `mime` matches one of `patterns` (`type/subtype`, `type/*` or `*\/*`). */
export function isAllowedType(mime: string, patterns: readonly string[]): boolean {
  const [type] = mime.split('/');
  return patterns.some((pattern) => pattern === '*/*' || pattern === mime || pattern === `${type}/*`);
}
