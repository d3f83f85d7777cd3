/**
 * The subset of the WebSocket API the SDK uses. Browsers, React Native, `ws` (through `isomorphic-ws`) and
 * test doubles all fit it. Handler parameters are typed `never` on purpose so every implementation's own
 * event types are accepted; the SDK narrows them itself.
 */
export interface WebSocketLike {
  /** 0 connecting, 1 open, 2 closing, 3 closed. */
  readonly readyState: number;
  /** The subprotocol the server selected. */
  readonly protocol: string;
  binaryType: string;
  onopen: ((event: never) => void) | null;
  onmessage: ((event: never) => void) | null;
  onclose: ((event: never) => void) | null;
  onerror: ((event: never) => void) | null;
  send(data: string | Uint8Array): void;
  close(code?: number, reason?: string): void;
}

/**
 * A WebSocket constructor. The third argument is passed only when headers are wanted (`ws` accepts
 * `{ headers }`; browsers ignore it).
 */
export type WebSocketConstructor = new (
  url: string,
  protocols?: string | string[],
  options?: { headers?: Record<string, string> },
) => WebSocketLike;

/** What the SDK reads from a `message` event. */
export interface MessageEventLike {
  data: unknown;
}

/** What the SDK reads from a `close` event. */
export interface CloseEventLike {
  code: number;
  reason?: string;
}

/** What the SDK reads from an `error` event (`ws` sets `message`, browsers set nothing useful). */
export interface ErrorEventLike {
  message?: string;
  error?: unknown;
}

/** A response as returned by `fetch`; only what the SDK reads. */
export interface FetchResponseLike {
  readonly ok: boolean;
  readonly status: number;
  readonly headers: { get(name: string): string | null };
  text(): Promise<string>;
}

/** Request options the SDK passes to `fetch`. */
export interface FetchInitLike {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  signal?: unknown;
}

/** A `fetch` function (the global one by default); injectable for tests and custom runtimes. */
export type FetchLike = (url: string, init?: FetchInitLike) => Promise<FetchResponseLike>;

/** Turns the data of a message event into what a codec decodes. */
export function toFrameData(data: unknown): { bytes: Uint8Array | string; isBinary: boolean } | undefined {
  if (typeof data === 'string') return { bytes: data, isBinary: false };
  if (data instanceof Uint8Array) return { bytes: data, isBinary: true };
  if (data instanceof ArrayBuffer) return { bytes: new Uint8Array(data), isBinary: true };
  if (ArrayBuffer.isView(data)) {
    return { bytes: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), isBinary: true };
  }
  // `ws` with binaryType 'fragments' or a Blob are never requested: the SDK sets 'arraybuffer'.
  return undefined;
}
