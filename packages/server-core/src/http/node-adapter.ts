import type { IncomingMessage, ServerResponse } from 'node:http';
import { ErrorCode } from '@natter/protocol';
import type { Logger } from '../observability/logger.js';
import type { NatterMetrics } from '../observability/metrics.js';
import { setClientIp } from './client-ip.js';
import { consumedBody, type FrameworkRequest, natterTargetOf } from './framework-request.js';
import { errorResponse } from './responses.js';

/** A fetch-style handler, as returned by `createHttpApi(...).fetch` or wrapped by the server. */
export type FetchHandler = (request: Request) => Promise<Response>;

/** Options of {@link toNodeListener}. */
export interface NodeListenerOptions {
  /** Largest request body, bytes; a larger one is answered 413 without reading further. */
  maxBodyBytes: number;
  /**
   * Take the client address (for login throttling) from the last `X-Forwarded-For` entry and the scheme
   * from `X-Forwarded-Proto`. Enable only behind a proxy that sets them, or clients can forge them.
   * @default false
   */
  trustProxy?: boolean;
  /**
   * Paths whose request bodies are passed on as a stream, unread and without the `maxBodyBytes` limit
   * (media uploads: the handler enforces its own limit while it streams).
   */
  streamBody?: (pathname: string) => boolean;
  /** When given, 413 and 500 answers produced by the adapter itself are counted in `errors`. */
  metrics?: NatterMetrics;
  /** When given, faults of the handler itself (it should never reject) are logged. */
  logger?: Logger;
}

const METHODS_WITHOUT_BODY = new Set(['GET', 'HEAD']);
/** Host names, IPv4, bracketed IPv6, optional port: nothing that could end the authority early. */
const HOST_PATTERN = /^[A-Za-z0-9.-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$/;

/**
 * Adapts a fetch-style handler to a Node `request` listener: builds a `Request` (body read fully, but
 * never more than `maxBodyBytes`), then streams the `Response` back. The listener never throws; a fault
 * after the headers went out destroys the socket, since the status can no longer change.
 */
export function toNodeListener(
  fetch: FetchHandler,
  options: NodeListenerOptions,
): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    handle(fetch, options, req, res).catch((err: unknown) => {
      options.logger?.error({ err, method: req.method, url: req.url }, 'http request failed');
      if (!res.headersSent) {
        options.metrics?.errors.inc({ code: ErrorCode.INTERNAL });
        void send(res, errorResponse(ErrorCode.INTERNAL, 'internal server error'), req.method).catch(() =>
          res.destroy(),
        );
      } else {
        res.destroy();
      }
    });
  };
}

async function handle(
  fetch: FetchHandler,
  options: NodeListenerOptions,
  req: IncomingMessage,
  res: ServerResponse,
) {
  const method = req.method ?? 'GET';
  const streamed =
    !METHODS_WITHOUT_BODY.has(method) &&
    consumedBody(req) === undefined &&
    options.streamBody?.((req.url ?? '/').split('?')[0]!) === true;
  const declared = Number(req.headers['content-length'] ?? 0);
  if (!streamed && declared > options.maxBodyBytes) return refuseTooLarge(req, res, options);

  let body: Buffer | ReadableStream<Uint8Array> | undefined;
  if (streamed) {
    body = pullStream(req);
  } else if (!METHODS_WITHOUT_BODY.has(method)) {
    // After a framework's body parser the stream is spent; what the parser read stands in for it.
    body = consumedBody(req) ?? (await readBody(req, options.maxBodyBytes));
    if (body === undefined || body.length > options.maxBodyBytes) return refuseTooLarge(req, res, options);
  }

  const url = requestUrl(req, options.trustProxy ?? false);
  if (!url) {
    return send(res, errorResponse(ErrorCode.BAD_REQUEST, 'malformed request target or Host header'), method);
  }

  // Aborts the handler's view of the request when the client goes away before the answer is sent.
  const aborted = new AbortController();
  res.once('close', () => {
    if (!res.writableFinished) aborted.abort();
  });

  let request: Request;
  try {
    request = new Request(url, {
      method,
      headers: toHeaders(req),
      ...(body instanceof ReadableStream ? { body, duplex: 'half' } : {}),
      ...(body instanceof Buffer && body.length > 0 ? { body } : {}),
      signal: aborted.signal,
    });
  } catch {
    // fetch refuses some methods outright (CONNECT, TRACE); that is the client's fault, not ours.
    return send(res, errorResponse(ErrorCode.BAD_REQUEST, 'unsupported request'), method);
  }
  setClientIp(request, clientIp(req, options.trustProxy ?? false));
  const response = await fetch(request);
  // A refused upload leaves its body unread: close the connection rather than read the rest of it.
  const unread = streamed && !req.readableEnded;
  if (unread) res.shouldKeepAlive = false;
  await send(res, response, method);
  if (unread) req.pause();
}

/**
 * Answers 413 and closes the connection afterwards: keeping it alive would mean reading (and
 * discarding) the rest of an arbitrarily large body first.
 */
async function refuseTooLarge(req: IncomingMessage, res: ServerResponse, options: NodeListenerOptions) {
  options.metrics?.errors.inc({ code: ErrorCode.BAD_REQUEST });
  const response = errorResponse(
    ErrorCode.BAD_REQUEST,
    `request body exceeds ${options.maxBodyBytes} bytes`,
    {
      status: 413,
      headers: { connection: 'close' },
    },
  );
  res.shouldKeepAlive = false;
  await send(res, response, req.method);
  // Stop reading the body; the socket closes once the answer is flushed.
  req.unpipe();
  req.pause();
}

/** Reads the whole body, or returns undefined as soon as it exceeds `maxBytes` (without keeping more). */
function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    const cleanup = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
    };
    const onData = (chunk: Buffer) => {
      total += chunk.length;
      if (total > maxBytes) {
        cleanup();
        chunks.length = 0;
        req.pause();
        resolve(undefined);
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      resolve(Buffer.concat(chunks));
    };
    const onError = (err: Error) => {
      cleanup();
      reject(err);
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
  });
}

function requestUrl(req: FrameworkRequest, trustProxy: boolean): URL | undefined {
  const forwardedProto = trustProxy
    ? firstHeader(req.headers['x-forwarded-proto'])?.split(',')[0]?.trim()
    : undefined;
  const encrypted = (req.socket as { encrypted?: boolean }).encrypted === true;
  const scheme =
    forwardedProto === 'https' || forwardedProto === 'http' ? forwardedProto : encrypted ? 'https' : 'http';
  const host = req.headers.host ?? 'localhost';
  // Behind a framework's mount path, `originalUrl` still holds the path natter routes on.
  const target = natterTargetOf(req) ?? req.url ?? '/';
  // A Host with path characters, or an absolute-form / `//authority` target, could otherwise move the
  // parsed URL to another host or path than the one routed on.
  if (!HOST_PATTERN.test(host) || !target.startsWith('/') || target.startsWith('//')) return undefined;
  try {
    return new URL(`${scheme}://${host}${target}`);
  } catch {
    return undefined;
  }
}

function toHeaders(req: IncomingMessage): Headers {
  const headers = new Headers();
  const raw = req.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    try {
      headers.append(raw[i]!, raw[i + 1]!);
    } catch {
      // A header value fetch refuses (e.g. invalid characters) is dropped rather than failing the request.
    }
  }
  return headers;
}

function clientIp(req: IncomingMessage, trustProxy: boolean): string | undefined {
  if (trustProxy) {
    // The last entry was added by our own proxy; earlier ones are whatever the client claimed.
    const forwarded = firstHeader(req.headers['x-forwarded-for'])?.split(',').at(-1)?.trim();
    if (forwarded) return forwarded;
  }
  return req.socket.remoteAddress;
}

function firstHeader(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** Writes a Response to a Node response, honouring backpressure. */
async function send(res: ServerResponse, response: Response, method: string | undefined): Promise<void> {
  const headers: Record<string, string | string[]> = {};
  response.headers.forEach((value, name) => {
    if (name !== 'set-cookie') headers[name] = value;
  });
  const cookies = response.headers.getSetCookie();
  if (cookies.length > 0) headers['set-cookie'] = cookies;
  res.writeHead(response.status, response.statusText || undefined, headers);
  const noBody = method === 'HEAD' || response.status === 204 || response.status === 304;
  if (!response.body || noBody) {
    await response.body?.cancel().catch(() => {});
    res.end();
    return;
  }
  const reader = response.body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (res.destroyed) {
        await reader.cancel();
        return;
      }
      if (!res.write(value))
        await new Promise<void>((resolve) => res.once('drain', resolve).once('close', resolve));
    }
  } finally {
    reader.releaseLock();
  }
  res.end();
}

/**
 * The request body as a web stream that reads only when its consumer pulls (`Readable.toWeb` in Node 20
 * reads ahead without bound: 20 concurrent 25 MiB uploads held most of their bytes). Cancelling leaves
 * the request paused rather than destroyed, so a refusal can still be answered on the socket.
 */
function pullStream(req: IncomingMessage): ReadableStream<Uint8Array> {
  const chunks = req[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        const next = await chunks.next();
        if (next.done) controller.close();
        else
          controller.enqueue(new Uint8Array(next.value.buffer, next.value.byteOffset, next.value.byteLength));
      },
      cancel() {
        req.pause();
      },
    },
    { highWaterMark: 0 },
  );
}
