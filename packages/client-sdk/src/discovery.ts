import { DISCOVERY_QUERY, parseDiscoveryAnswer } from '@natter/protocol';
import type { DiscoverFn, PingFn } from './placement.js';
import type { FetchLike, FetchResponseLike } from './transport.js';

/** A clock for round trips: monotonic where the runtime has one. */
export function monotonicNow(): number {
  const perf = (globalThis as { performance?: { now?: () => number } }).performance;
  return typeof perf?.now === 'function' ? perf.now() : Date.now();
}

/** Races `promise` against a timer; `onTimeout` runs (e.g. to abort the request) when the timer wins. */
async function within<T>(
  promise: Promise<T>,
  timeoutMs: number,
  what: string,
  onTimeout?: () => void,
): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      onTimeout?.();
      reject(new Error(`${what} timed out after ${timeoutMs} ms`));
    }, timeoutMs);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function abortable(): { signal?: unknown; abort: () => void } {
  if (typeof AbortController !== 'function') return { abort: () => undefined };
  const controller = new AbortController();
  return { signal: controller.signal, abort: () => controller.abort() };
}

/** The delay a 503 names: `error.retryAfterMs` in the body, else the `Retry-After` header (seconds). */
function retryAfterOf(response: FetchResponseLike, body: unknown): number | undefined {
  const fromBody = (body as { error?: { retryAfterMs?: unknown } } | undefined)?.error?.retryAfterMs;
  if (typeof fromBody === 'number' && Number.isFinite(fromBody) && fromBody >= 0) return fromBody;
  const header = Number(response.headers.get('retry-after'));
  return Number.isFinite(header) && header > 0 ? header * 1000 : undefined;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * Asks `GET {url}` for candidates, passing the app's region and the nodes this client just failed to reach.
 * A natter `503 NATTER_UNAVAILABLE` means "no healthy node" (with the delay it names); any other failure,
 * including a body that is not a valid answer, rejects, so the client falls back to its configured URL.
 */
export function createDiscover(url: string, getFetch: () => FetchLike, timeoutMs: number): DiscoverFn {
  return async (hint) => {
    const params: string[] = [];
    if (hint.region) params.push(`${DISCOVERY_QUERY.region}=${encodeURIComponent(hint.region)}`);
    if (hint.failed.length > 0) {
      params.push(`${DISCOVERY_QUERY.failed}=${hint.failed.map(encodeURIComponent).join(',')}`);
    }
    // Built by hand: React Native's URL implementation lacks a working `searchParams`.
    const target = params.length === 0 ? url : `${url}${url.includes('?') ? '&' : '?'}${params.join('&')}`;
    const { signal, abort } = abortable();
    const fetchFn = getFetch();
    const response = await within(
      fetchFn(target, { headers: { accept: 'application/json' }, ...(signal ? { signal } : {}) }),
      timeoutMs,
      'discovery',
      abort,
    );
    const body = parseJson(await within(response.text(), timeoutMs, 'discovery', abort));
    const code = (body as { error?: { code?: unknown } } | undefined)?.error?.code;
    if (response.status === 503 && code === 'NATTER_UNAVAILABLE') {
      return { kind: 'none', retryAfterMs: retryAfterOf(response, body) };
    }
    if (!response.ok) throw new Error(`discovery failed: HTTP ${response.status}`);
    const answer = parseDiscoveryAnswer(body);
    if (!answer) throw new Error('discovery answered something that is not a discovery answer');
    return { kind: 'answer', answer };
  };
}

/**
 * The default ping: `GET` the candidate's ping URL and time the answer's arrival (headers, before the body).
 * Any HTTP answer counts as reachable (an older node without `/v1/ping` answers 404) except 503, which a
 * draining node answers. Rejects on network errors and after `timeoutMs`.
 */
export function createPing(getFetch: () => FetchLike, clock: () => number = monotonicNow): PingFn {
  return async (node, timeoutMs) => {
    if (!node.pingUrl) throw new Error(`node ${node.nodeId} has no ping URL`);
    const { signal, abort } = abortable();
    const fetchFn = getFetch();
    const started = clock();
    const response = await within(
      fetchFn(node.pingUrl, { headers: { accept: 'application/json' }, ...(signal ? { signal } : {}) }),
      timeoutMs,
      'ping',
      abort,
    );
    const rttMs = clock() - started;
    // Read the (tiny) body so the connection can serve the next ping.
    await within(response.text(), timeoutMs, 'ping', abort).catch(() => undefined);
    if (response.status === 503) throw new Error(`node ${node.nodeId} is draining`);
    return rttMs;
  };
}
