/** Longest stored file name, in UTF-8 bytes (the common filesystem limit). */
export const MAX_FILENAME_BYTES = 255;

/**
 * Control characters, and the bidirectional marks and overrides that make "evil\u202Egpj.exe" display
 * as "evilexe.jpg".
 */
function isUnsafeChar(char: string): boolean {
  const c = char.codePointAt(0) ?? 0;
  return (
    c < 0x20 ||
    (c >= 0x7f && c <= 0x9f) ||
    c === 0x200e ||
    c === 0x200f ||
    (c >= 0x202a && c <= 0x202e) ||
    (c >= 0x2066 && c <= 0x2069)
  );
}
/** Characters that are separators or special on some filesystem, or break a quoted header value. */
const RESERVED = /["*:<>?|\\/]/g;
/** Windows device names, which cannot be saved as files there. */
const DEVICE = /^(con|prn|aux|nul|com\d|lpt\d)(\..*)?$/i;

/**
 * A file name safe to store and to send back in `Content-Disposition`: only the last path segment
 * (no `../`), no control or bidi-override characters, no characters reserved on common filesystems,
 * no leading or trailing dots and spaces, at most {@link MAX_FILENAME_BYTES} UTF-8 bytes (the
 * extension kept). Falls back to `file` (plus `extension`, when given) when nothing usable is left.
 */
export function sanitizeFilename(name: string | null | undefined, extension?: string): string {
  const fallback = extension ? `file.${extension}` : 'file';
  if (!name) return fallback;
  const lastSegment = name.split(/[/\\]/).pop() ?? '';
  let clean = [...lastSegment.normalize('NFC')]
    .filter((char) => !isUnsafeChar(char))
    .join('')
    .replace(RESERVED, '_')
    .replace(/\s+/g, ' ')
    .replace(/^[\s.]+|[\s.]+$/g, '');
  if (clean === '') return fallback;
  if (DEVICE.test(clean)) clean = `_${clean}`;
  return truncateUtf8(clean, MAX_FILENAME_BYTES);
}

/** Shortens `name` to `max` UTF-8 bytes, cutting the stem (never inside a character) and keeping the extension. */
function truncateUtf8(name: string, max: number): string {
  const encoder = new TextEncoder();
  if (encoder.encode(name).byteLength <= max) return name;
  const dot = name.lastIndexOf('.');
  const extension = dot > 0 && name.length - dot <= 16 ? name.slice(dot) : '';
  const budget = max - encoder.encode(extension).byteLength;
  let stem = '';
  let used = 0;
  for (const char of name.slice(0, name.length - extension.length)) {
    const size = encoder.encode(char).byteLength;
    if (used + size > budget) break;
    stem += char;
    used += size;
  }
  return `${stem}${extension}`;
}

/**
 * A `Content-Disposition` value for `filename` (RFC 6266): an ASCII fallback plus the UTF-8 name in
 * `filename*`. `inline` only for types that are safe to render (see `isInlineSafe`).
 */
export function contentDisposition(filename: string, inline = false): string {
  const safe = sanitizeFilename(filename);
  const ascii = safe.replace(/[^\x20-\x7e]/g, '_').replace(/["\\%]/g, '_');
  const encoded = encodeURIComponent(safe).replace(
    /['()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
  return `${inline ? 'inline' : 'attachment'}; filename="${ascii}"; filename*=UTF-8''${encoded}`;
}
