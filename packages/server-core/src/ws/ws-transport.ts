import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { CloseCode, type CodecName, ErrorCode, getCodec, HTTP_STATUS, isNatterError } from '@natter/protocol';
import { WebSocketServer, type Server as WsServer } from 'ws';
import { isOriginAllowed, type ResolvedConfig } from '../config.js';
import type { Logger } from '../observability/logger.js';
import type { NatterMetrics } from '../observability/metrics.js';
import type { Principal } from '../ports/authenticator.js';
import type { ClientConnection, ConnectionHandler } from '../ports/connection.js';
import { deviceFromRequest, negotiateCodec, tokenFromRequest } from './handshake.js';
import { AddressQuotas } from './user-quotas.js';
import { NatterSocket, WsConnection } from './ws-connection.js';

/** An authenticated connection that the transport hands to the engine. */
export interface AcceptedConnection {
  principal: Principal;
  /** From the token, else from `?device=`, else undefined (the engine picks one). */
  deviceId: string | undefined;
  codec: CodecName;
  connection: ClientConnection;
}

/** Dependencies of {@link WsTransport}. */
export interface WsTransportDeps {
  config: ResolvedConfig;
  logger: Logger;
  metrics: NatterMetrics;
  authenticate(token: string): Promise<Principal>;
  /** Called once the socket is open; returns the handler that receives its frames. */
  accept(connection: AcceptedConnection): ConnectionHandler;
  /** While draining, new upgrades are refused with 503. */
  isDraining(): boolean;
  /**
   * 0 when the user may open another socket, else the wait in ms: such an upgrade is answered 429 at once,
   * so a reconnect loop costs no upgrade and no session. The session checks again (for every transport).
   */
  peekUser?(userId: string): number;
}

/**
 * The `ws` transport adapter: authenticates at the handshake (no socket without a valid token), checks
 * Origin, negotiates the codec, enforces `maxPayload`, decodes frames and closes with the right code when a
 * frame cannot be decoded. Attaches to any Node `http.Server`, so it mounts beside Express or Fastify.
 */
export class WsTransport {
  private readonly wss: WsServer<typeof NatterSocket>;
  /** Sockets per client address, counted from the upgrade request (before authentication) to the close. */
  private readonly addresses: AddressQuotas;

  constructor(private readonly deps: WsTransportDeps) {
    const { resources, now } = deps.config;
    this.addresses = new AddressQuotas(
      resources.maxConnectionsPerAddress,
      resources.handshakesPerAddress,
      now,
    );
    this.wss = new WebSocketServer<typeof NatterSocket>({
      // Sockets that carry their connection, so one set of listener functions serves every socket.
      WebSocket: NatterSocket,
      noServer: true,
      maxPayload: deps.config.limits.maxFrameBytes,
      // Compression invites decompression bombs and costs CPU per frame; frames here are small.
      perMessageDeflate: false,
      clientTracking: true,
      handleProtocols: (protocols) => negotiateCodec([...protocols].join(','))?.subprotocol ?? false,
    });
  }

  /** Handles upgrades on `server` for the configured path; other paths are left to other listeners. */
  attach(server: Server): void {
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      if (url.pathname !== this.deps.config.wsPath) {
        if (server.listenerCount('upgrade') === 1)
          reject(socket, 404, ErrorCode.NOT_FOUND, 'no such endpoint');
        return;
      }
      this.handleUpgrade(req, socket, head);
    });
  }

  /** Handles one upgrade request (for servers that route upgrades themselves). */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const { config, metrics } = this.deps;
    // A shared function, not a closure: this listener stays on the socket for its whole life, and a closure
    // here would keep the request, its URL (with the token) and the handshake timer alive with it.
    socket.on('error', destroyOnError);
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (this.deps.isDraining()) {
      reject(socket, 503, ErrorCode.UNAVAILABLE, 'draining');
      return;
    }
    if (!config.hosts.allows(req.headers.host)) {
      metrics.errors.inc({ code: 'host_refused' });
      reject(socket, 403, ErrorCode.FORBIDDEN, 'host not allowed');
      return;
    }
    // The scheme the client used: TLS on this socket (a proxy terminating TLS must send an https Origin
    // only for a wss URL it forwards here; list such origins in allowedOrigins).
    const scheme = (req.socket as { encrypted?: boolean }).encrypted ? 'https:' : 'http:';
    if (!isOriginAllowed(req.headers.origin, req.headers.host, config.allowedOrigins, scheme)) {
      metrics.errors.inc({ code: 'origin_refused' });
      reject(socket, 403, ErrorCode.FORBIDDEN, 'origin not allowed');
      return;
    }
    const negotiated = negotiateCodec(req.headers['sec-websocket-protocol']);
    if (!negotiated) {
      reject(socket, 400, ErrorCode.BAD_REQUEST, 'no supported subprotocol');
      return;
    }
    if (this.wss.clients.size >= config.maxConnections) {
      metrics.errors.inc({ code: 'overloaded' });
      this.refuseOverloaded(req, socket, head);
      return;
    }
    // Counted before the token is checked: handshakes in progress hold file descriptors too. The address is
    // the TCP peer's; behind a proxy, raise the cap (every client shares the proxy's address).
    const address = req.socket.remoteAddress ?? 'unknown';
    const handshakeWait = this.addresses.takeHandshake(address);
    if (handshakeWait > 0) {
      metrics.errors.inc({ code: 'too_many_handshakes' });
      reject(
        socket,
        429,
        ErrorCode.RATE_LIMITED,
        'too many connection attempts from this address',
        handshakeWait,
      );
      return;
    }
    if (!this.addresses.tryOpen(address)) {
      metrics.errors.inc({ code: 'too_many_connections' });
      reject(socket, 429, ErrorCode.RATE_LIMITED, 'too many connections from this address');
      return;
    }
    // Made outside this function: a closure created here would share this function's context, and a
    // listener living as long as the socket would keep the request, its URL and the token alive.
    socket.once('close', releaseOnClose(this.addresses, address));
    const token = tokenFromRequest(req, url);
    if (!token) {
      reject(socket, 401, ErrorCode.UNAUTHORIZED, 'missing token');
      return;
    }

    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      reject(socket, 408, ErrorCode.UNAUTHORIZED, 'handshake timeout');
    }, config.handshakeTimeoutMs);
    this.deps
      .authenticate(token)
      .then((principal) => {
        clearTimeout(timer);
        if (timedOut || socket.destroyed) return;
        const wait = this.deps.peekUser?.(principal.userId) ?? 0;
        if (wait > 0) {
          metrics.errors.inc({ code: 'too_many_connections' });
          reject(socket, 429, ErrorCode.RATE_LIMITED, 'too many connections for this user', wait);
          return;
        }
        const deviceId = principal.deviceId ?? deviceFromRequest(url);
        this.wss.handleUpgrade(req, socket, head, (ws) =>
          this.wire(ws, socket, principal, deviceId, negotiated.codec),
        );
      })
      .catch((err: unknown) => {
        clearTimeout(timer);
        if (timedOut) return;
        const code = isNatterError(err) ? err.code : ErrorCode.UNAUTHORIZED;
        metrics.errors.inc({ code });
        reject(
          socket,
          code === ErrorCode.TOKEN_EXPIRED ? 401 : (HTTP_STATUS[code] ?? 401),
          code,
          'authentication failed',
          isNatterError(err) ? err.retryAfterMs : undefined,
        );
      });
  }

  /**
   * Connects an open socket to the engine. Kept apart from `handleUpgrade`, and free of closures: the
   * request, its URL (with the token) and the handshake timer must not stay alive as long as the
   * connection. The socket's listeners are shared functions that reach the connection through the socket.
   */
  private wire(
    ws: NatterSocket,
    raw: Duplex,
    principal: Principal,
    deviceId: string | undefined,
    codecName: CodecName,
  ): void {
    const connection = new WsConnection(ws, raw, getCodec(codecName), this.deps);
    connection.handler = this.deps.accept({ principal, deviceId, codec: codecName, connection });
    ws.wire(connection);
  }

  /**
   * Refuses a socket because the node is full: the upgrade completes and the socket closes at once with 1013
   * and `retryAfterMs=…` in the reason. An HTTP 503 would do the same for less, but browsers hide the status
   * and headers of a refused upgrade, while every runtime reads a close code and reason. Done before the
   * token is checked: a full node spends nothing on authentication.
   */
  private refuseOverloaded(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const reason = `overloaded; retryAfterMs=${this.deps.config.overloadRetryAfterMs}`;
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      ws.on('error', ignoreError);
      ws.close(CloseCode.TRY_AGAIN_LATER, reason);
    });
  }

  /** Closes every socket with `code`. */
  closeAll(code: number, reason: string): void {
    for (const ws of this.wss.clients) ws.close(code, reason);
  }

  /** Number of open sockets. */
  get size(): number {
    return this.wss.clients.size;
  }

  /** Terminates every socket and stops the WebSocket server. */
  async close(): Promise<void> {
    for (const ws of this.wss.clients) ws.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }
}

function ignoreError(): void {
  // A refused socket's late errors (the peer went away first) need no handling.
}

function destroyOnError(this: Duplex): void {
  this.destroy();
}

/** The socket's `close` listener that frees its address slot; its closure holds only these two. */
function releaseOnClose(addresses: { release(address: string): void }, address: string): () => void {
  return () => addresses.release(address);
}

/** Answers an upgrade request with an HTTP error and a JSON body, then closes the socket. */
function reject(socket: Duplex, status: number, code: string, message: string, retryAfterMs?: number): void {
  if (socket.destroyed) return;
  const body = JSON.stringify({ error: { code, message, ...(retryAfterMs ? { retryAfterMs } : {}) } });
  const retry = retryAfterMs ? `Retry-After: ${Math.ceil(retryAfterMs / 1000)}\r\n` : '';
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? 'Error'}\r\nConnection: close\r\n${retry}Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  408: 'Request Timeout',
  429: 'Too Many Requests',
  503: 'Service Unavailable',
};
