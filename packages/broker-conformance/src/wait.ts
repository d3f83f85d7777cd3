/** Resolves after `ms`. */
export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Polls `condition` every 10 ms until it holds; rejects with `message` after `timeoutMs`. Every wait in the
 * suite is bounded, so a broken adapter fails a check instead of hanging the run.
 */
export async function until(condition: () => boolean, timeoutMs: number, message: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms: ${message}`);
    await sleep(10);
  }
}

/** Rejects with `message` when `promise` has not settled within `timeoutMs`. */
export async function within<T>(promise: Promise<T>, timeoutMs: number, message: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms: ${message}`)), timeoutMs);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** A collector of received payloads, for one subscription. */
export interface Inbox {
  readonly received: Uint8Array[];
  readonly handler: (payload: Uint8Array) => void;
}

export function inbox(): Inbox {
  const received: Uint8Array[] = [];
  return { received, handler: (payload) => void received.push(payload) };
}

export const bytes = (text: string) => new TextEncoder().encode(text);
export const text = (payload: Uint8Array) => new TextDecoder().decode(payload);
