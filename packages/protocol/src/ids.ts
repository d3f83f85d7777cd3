const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const RANDOM_CHARS = 16;

let lastTime = -1;
// One getRandomValues call per 256 ids instead of one per id: the call dominates the cost of an id.
const pool = new Uint8Array(RANDOM_CHARS * 256);
let poolOffset = pool.length;
const lastRandom = new Uint8Array(RANDOM_CHARS);

/** Adds one to a base32 digit string (most significant first); false when it overflows. */
function increment(digits: Uint8Array): boolean {
  for (let i = digits.length - 1; i >= 0; i--) {
    if (digits[i]! < 31) {
      digits[i]! += 1;
      return true;
    }
    digits[i] = 0;
  }
  return false;
}

/**
 * A 26-character, time-sortable, globally unique id in the ULID layout: 48 bits of milliseconds, then
 * 80 random bits, in Crockford base32. Monotonic within a process: ids made in the same (or an earlier)
 * millisecond increment the previous one, so ids made in order sort in order (a channel's message ids
 * follow its `seq` on one node).
 */
export function newId(now: number = Date.now()): string {
  if (now > lastTime) {
    lastTime = now;
    if (poolOffset + RANDOM_CHARS > pool.length) {
      globalThis.crypto.getRandomValues(pool);
      poolOffset = 0;
    }
    // 256 is a multiple of 32, so `% 32` is unbiased. The top bit is kept clear so increments rarely overflow.
    for (let i = 0; i < RANDOM_CHARS; i++) lastRandom[i] = pool[poolOffset + i]! % (i === 0 ? 16 : 32);
    poolOffset += RANDOM_CHARS;
  } else if (!increment(lastRandom)) {
    lastTime += 1;
    lastRandom.fill(0);
  }
  let out = '';
  let time = lastTime;
  for (let i = 9; i >= 0; i--) {
    out = CROCKFORD[time % 32]! + out;
    time = Math.floor(time / 32);
  }
  for (let i = 0; i < RANDOM_CHARS; i++) out += CROCKFORD[lastRandom[i]!]!;
  return out;
}

/** A random id with a readable prefix, e.g. `newPrefixedId('u')` gives `u_01J...`. */
export function newPrefixedId(prefix: string, now?: number): string {
  return `${prefix}_${newId(now)}`;
}
