/**
 * PostgreSQL `text` cannot hold U+0000, which user text may contain. Columns of user text
 * (message text, channel names, display names) are therefore stored escaped: `\` as `\\` and
 * U+0000 as `\0`. Text without either character (nearly all) is stored unchanged. The full-text
 * index reads a backslash and the character after it as a word separator, as U+0000 is one.
 */

/** Encodes user text for a `text` column. */
export function encodeText(value: string): string {
  return /[\\\0]/.test(value) ? value.replace(/[\\\0]/g, (c) => (c === '\\' ? '\\\\' : '\\0')) : value;
}

/** Decodes what {@link encodeText} stored. */
export function decodeText(value: string): string {
  return value.includes('\\')
    ? value.replace(/\\([\s\S])/g, (_, c: string) => (c === '0' ? '\0' : c))
    : value;
}

/** {@link encodeText} that passes null through. */
export function encodeOptional(value: string | null): string | null {
  return value === null ? null : encodeText(value);
}

/** {@link decodeText} that passes null through. */
export function decodeOptional(value: string | null): string | null {
  return value === null ? null : decodeText(value);
}
