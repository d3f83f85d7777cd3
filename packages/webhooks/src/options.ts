import { EVENT_TYPES, type EventType } from '@natter/protocol';
import type { EventStore } from './event-store.js';

/** One receiver of events: the app backend's HTTPS endpoint. */
export interface EventEndpoint {
  /** A stable name (1-64 of `A-Z a-z 0-9 _ . -`): deliveries are tracked per name, so renaming starts afresh. */
  name: string;
  /** Where events are POSTed. `https`, or `http` on localhost only. */
  url: string;
  /** The shared secret the requests are signed with (at least 24 characters): `openssl rand -base64 32`. */
  secret: string;
  /** The event types this endpoint receives. @default every type */
  events?: readonly EventType[];
}

/** Options of {@link createEventWebhooks}. Give exactly one of `dataPath`, `store`. */
export interface EventWebhooksOptions {
  /** SQLite file for the default store (created with its directory); one process owns it. */
  dataPath?: string;
  /** Another {@link EventStore} (a shared one for many nodes, or a test double). */
  store?: EventStore;
  endpoints: readonly EventEndpoint[];
  /** Time one request may take before it counts as failed and is retried, ms. @default 10000 */
  timeoutMs?: number;
  /** Requests in flight per endpoint: a slow endpoint never holds up another's. @default 4 */
  concurrency?: number;
  /** First retry delay, ms; doubles per attempt (half of it jittered) up to `retryMaxMs`. @default 1000 */
  retryBaseMs?: number;
  /** Longest retry delay, ms. @default 600000 (10 minutes) */
  retryMaxMs?: number;
  /**
   * How long a delivery is retried before it is given up, ms. An endpoint that is down for less loses
   * nothing; a given-up event stays replayable from `GET /v1/server/events` until `retentionMs`.
   * @default 259200000 (3 days)
   */
  giveUpAfterMs?: number;
  /**
   * Undelivered events kept per endpoint. Past it the oldest undelivered are dropped (counted in
   * `natter_errors_total{code="webhook_dropped"}`) and stay replayable until `retentionMs`. @default 100000
   */
  maxPendingPerEndpoint?: number;
  /** How long events stay in the log for replay, ms. @default 604800000 (7 days) */
  retentionMs?: number;
  /** How often the queue is worked through, ms. @default 500 */
  workerIntervalMs?: number;
  /** @default Date.now */
  now?: () => number;
}

/** {@link EventWebhooksOptions} with defaults applied. */
export interface ResolvedWebhookOptions {
  endpoints: readonly EventEndpoint[];
  timeoutMs: number;
  concurrency: number;
  retryBaseMs: number;
  retryMaxMs: number;
  giveUpAfterMs: number;
  maxPendingPerEndpoint: number;
  retentionMs: number;
  workerIntervalMs: number;
  /** How long a claimed delivery stays hidden from other workers: past any request's timeout. */
  leaseMs: number;
  now: () => number;
}

const NAME = /^[A-Za-z0-9_.-]{1,64}$/;

function positive(name: string, value: number | undefined, fallback: number): number {
  const resolved = value ?? fallback;
  if (!Number.isFinite(resolved) || resolved <= 0) throw new RangeError(`${name} must be a positive number`);
  return resolved;
}

function checkEndpoint(endpoint: EventEndpoint, index: number): void {
  const where = `endpoints[${index}]`;
  if (!NAME.test(endpoint.name ?? '')) throw new TypeError(`${where}.name must be 1-64 of A-Z a-z 0-9 _ . -`);
  let url: URL;
  try {
    url = new URL(endpoint.url);
  } catch {
    throw new TypeError(`${where}.url is not a URL`);
  }
  const local = url.hostname === 'localhost' || url.hostname === '127.0.0.1' || url.hostname === '[::1]';
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && local)) {
    throw new TypeError(`${where}.url must be https (http only on localhost)`);
  }
  if (typeof endpoint.secret !== 'string' || endpoint.secret.length < 24) {
    throw new RangeError(
      `${where}.secret must be at least 24 characters: make one with \`openssl rand -base64 32\``,
    );
  }
  for (const type of endpoint.events ?? []) {
    if (!EVENT_TYPES.includes(type))
      throw new TypeError(`${where}.events has an unknown type ${String(type)}`);
  }
}

/** Applies defaults and checks values. */
export function resolveWebhookOptions(options: EventWebhooksOptions): ResolvedWebhookOptions {
  if ((options.dataPath === undefined) === (options.store === undefined)) {
    throw new TypeError('createEventWebhooks needs exactly one of `dataPath`, `store`');
  }
  options.endpoints.forEach(checkEndpoint);
  const names = new Set(options.endpoints.map((e) => e.name));
  if (names.size !== options.endpoints.length) throw new TypeError('endpoint names must be unique');
  const timeoutMs = positive('timeoutMs', options.timeoutMs, 10_000);
  const workerIntervalMs = positive('workerIntervalMs', options.workerIntervalMs, 500);
  return {
    endpoints: options.endpoints,
    timeoutMs,
    concurrency: Math.floor(positive('concurrency', options.concurrency, 4)),
    retryBaseMs: positive('retryBaseMs', options.retryBaseMs, 1_000),
    retryMaxMs: positive('retryMaxMs', options.retryMaxMs, 600_000),
    giveUpAfterMs: positive('giveUpAfterMs', options.giveUpAfterMs, 3 * 86_400_000),
    maxPendingPerEndpoint: Math.floor(
      positive('maxPendingPerEndpoint', options.maxPendingPerEndpoint, 100_000),
    ),
    retentionMs: positive('retentionMs', options.retentionMs, 7 * 86_400_000),
    workerIntervalMs,
    leaseMs: timeoutMs + 30_000,
    now: options.now ?? Date.now,
  };
}

/** The endpoints that want an event type. */
export function endpointsFor(endpoints: readonly EventEndpoint[], type: EventType): string[] {
  return endpoints.filter((e) => !e.events || e.events.includes(type)).map((e) => e.name);
}
