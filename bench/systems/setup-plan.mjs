/**
 * The workload a scenario asks a server to prepare, shared by the three systems so each gets the same
 * users, channels and backlog:
 *   { users: N, directPairs: P, group: S, preload: { messages } }
 * - users 0..N-1 exist and each has a token for one device;
 * - directPairs: users (2i, 2i+1) share a direct channel, for i < P;
 * - group: one group of users 0..S-1, user 0 its owner;
 * - preload: `messages` sent by user 1 to user 0 in their direct channel before anyone connects
 *   (the backlog of the catch-up scenario).
 */

/** Runs `fn` over `items` with at most `width` calls in flight (enough to fill a group-commit batch). */
export async function inBatches(items, width, fn) {
  const out = new Array(items.length);
  for (let start = 0; start < items.length; start += width) {
    const slice = items.slice(start, start + width);
    const results = await Promise.all(slice.map((item, i) => fn(item, start + i)));
    for (let i = 0; i < results.length; i++) out[start + i] = results[i];
  }
  return out;
}

export const range = (n) => Array.from({ length: n }, (_, i) => i);

/** Padding that brings a message to a typical chat line length; the timestamp is prepended. */
export const PADDING = ' lorem ipsum dolor sit amet, consectetur adipiscing';

/** Builds a message text carrying its send time, read back by receivers for latency. */
export const stampedText = (at) => `${at.toFixed(3)}${PADDING}`;

/** The send time carried by a stamped text, or NaN for other texts (system messages). */
export const stampOf = (text) => Number.parseFloat(text);
