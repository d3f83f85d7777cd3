import { DISCOVERY_LIMITS } from '@natter/protocol';
import WebSocketDefault from 'isomorphic-ws';
import type { ChatClientOptions } from './client-types.js';
import { createDiscover, createPing } from './discovery.js';
import { Placement } from './placement.js';
import type { FetchLike, WebSocketConstructor } from './transport.js';

/** Placement over the discovery endpoint at `discoveryUrl` (the `discovery` option). */
export function createPlacement(
  discoveryUrl: string,
  wsUrl: string,
  options: ChatClientOptions,
  now: () => number,
): Placement {
  const { region, placement = {} } = options;
  if (region !== undefined && (region.length === 0 || region.length > DISCOVERY_LIMITS.maxRegionLength)) {
    throw new TypeError(`region must be 1-${DISCOVERY_LIMITS.maxRegionLength} characters`);
  }
  const getFetch = (): FetchLike => {
    const f = options.fetch ?? (globalThis as { fetch?: FetchLike }).fetch;
    if (!f) throw new Error('no fetch in this runtime: pass the `fetch` option');
    // Called as a plain function: some runtimes' fetch refuses another `this`.
    return (url, init) => f.call(globalThis, url, init);
  };
  const { ping, discoveryTimeoutMs, ...tuning } = placement;
  const random = typeof options.backoff === 'object' ? options.backoff.random : undefined;
  return new Placement(
    {
      discover: createDiscover(discoveryUrl, getFetch, discoveryTimeoutMs ?? 5_000),
      ping: ping ?? createPing(getFetch),
      fallbackWsUrl: wsUrl,
      now,
      random: random ?? Math.random,
    },
    { ...tuning, ...(region !== undefined ? { region } : {}) },
  );
}

/**
 * Calls `onPageHide` when the page goes away (`pagehide`; browsers only). Returns the function that stops
 * listening, or undefined outside browsers.
 */
export function listenForPageHide(onPageHide: () => void): (() => void) | undefined {
  const target = globalThis as {
    addEventListener?: (type: string, fn: () => void) => void;
    removeEventListener?: (type: string, fn: () => void) => void;
  };
  if (typeof target.addEventListener !== 'function') return undefined;
  target.addEventListener('pagehide', onPageHide);
  return () => target.removeEventListener?.('pagehide', onPageHide);
}

/**
 * The client's life as one union. `generation` counts close/reopen cycles, so a `connect()` that was
 * waiting for a load knows whether a `close()` overtook it.
 */
export type Lifecycle =
  /** Local data is loading (after construction, or reopening after a close). */
  | { status: 'loading'; loaded: Promise<void>; generation: number }
  /** Loaded, never connected. */
  | { status: 'ready'; generation: number }
  /** `connect()` ran: the connection (re)connects by itself until `close()`. */
  | { status: 'connected'; generation: number; removePageHide: (() => void) | undefined }
  /** `close()` is stopping everything and closing the store. */
  | { status: 'closing'; done: Promise<void>; generation: number }
  /** The store is closed; `connect()` reopens it. */
  | { status: 'closed'; generation: number };

/** The injected constructor, else `isomorphic-ws`; fails at construction rather than on every reconnect. */
export function webSocketConstructor(injected: WebSocketConstructor | undefined): WebSocketConstructor {
  const ctor = injected ?? (WebSocketDefault as unknown as WebSocketConstructor | undefined);
  if (typeof ctor !== 'function')
    throw new TypeError('no WebSocket in this runtime: pass the `WebSocket` option');
  return ctor;
}

/** Derives the HTTP base URL and the WebSocket URL from the `url` option. */
export function endpoints(url: string, wsUrl?: string): { httpUrl: string; wsUrl: string } {
  const httpUrl = url.replace(/\/+$/, '').replace(/^ws(s?):\/\//i, 'http$1://');
  return { httpUrl, wsUrl: wsUrl ?? `${httpUrl.replace(/^http/i, 'ws')}/v1/ws` };
}
