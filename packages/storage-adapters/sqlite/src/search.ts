/**
 * Search input is user text: it is reduced to its words (runs of letters and digits) and each word
 * becomes a quoted FTS5 string, so operators (`AND`, `NEAR`, `*`, `^`, `-`, `:`), parentheses and
 * unbalanced quotes are only separators and a query can never be a syntax error. Quoted strings
 * side by side are an implicit AND: every word must appear.
 */

/** The words of a search text, lower-cased and without duplicates. */
export function searchWords(text: string): string[] {
  return [...new Set(text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [])];
}

/** The FTS5 MATCH expression for `text`, or undefined when it has no words (nothing matches). */
export function ftsQuery(text: string): string | undefined {
  const words = searchWords(text);
  return words.length === 0 ? undefined : words.map((word) => `"${word}"`).join(' ');
}
