import {
  ANSWERS,
  type AnswerOf,
  CloseCode,
  type Codec,
  DEFAULT_LIMITS,
  ErrorCode,
  errorFromWire,
  type HelloFrame,
  NatterError,
  type NotificationFrame,
  type ProtocolLimits,
  parseServerFrame,
  type RequestFrame,
  type RequestType,
  type ServerFrame,
  subprotocolForCodec,
  TERMINAL_CLOSE_CODES,
  type WireEntry,
} from '@natter/protocol';
import { type Backoff, delayWithRetryAfter } from './backoff.js';
import {
  type ConnectionStatus,
  parseRetryAfter,
  type StateChange,
  StateReason,
  type TokenProvider,
} from './connection-state.js';
import { Emitter } from './emitter.js';
import { connectionLost, errorCodeOf, toError } from './errors.js';
import type { Placement } from './placement.js';
import {
  type CloseEventLike,
  type ErrorEventLike,
  type MessageEventLike,
  toFrameData,
  type WebSocketConstructor,
  type WebSocketLike,
} from './transport.js';

export type { ConnectionStatus, StateChange, TokenProvider, TokenRequest } from './connection-state.js';
export { parseRetryAfter, StateReason } from './connection-state.js';

/** The whole state of the connection as one union: no side booleans to drift out of sync. */
type State =
  | { status: 'idle' }
  | { status: 'connecting'; failures: number; socket: WebSocketLike | undefined }
  /** `failures`: failed attempts before this session; counted on if it ends before it was stable. */
  | { status: 'open'; socket: WebSocketLike; hello: HelloFrame; openedAt: number; failures: number }
  | { status: 'reconnecting'; failures: number; timer: ReturnType<typeof setTimeout> }
  | { status: 'closed' };

/** Events of a {@link Connection}. */
export interface ConnectionEvents {
  state: StateChange;
  /** The session is open; sent before any frame of the session is dispatched. */
  open: HelloFrame;
  /**
   * Every sync entry the server pushes to this device (in `msg` frames, the `ack` of its own sends and the
   * `mutated` answer of its own changes),
   * synchronously and in arrival order: the live stream of the user's log.
   */
  entry: WireEntry;
  /**
   * Server frames that answer no request (presence, typing, receipts, uncorrelated errors), in arrival order.
   * An answer goes to its request only.
   */
  frame: ServerFrame;
  /** An open session ended (the socket closed, or `close()`); requests in flight were rejected. */
  down: { closeCode: number };
  /** Something went wrong that the connection handled itself (undecodable frame, uncorrelated error). */
  error: Error;
}

/** Sends a request over the open connection and resolves with its typed answer (see {@link Connection.request}). */
export type RequestSender = <F extends RequestFrame>(
  frame: F,
  timeoutMs?: number,
) => Promise<AnswerOf<F['t']>>;

/** Options of {@link Connection}. */
export interface ConnectionOptions {
  /** WebSocket URL of the endpoint, e.g. `wss://chat.example.com/v1/ws`. */
  wsUrl: string;
  /**
   * Chooses the node to connect to (discovery, measured latency) and the next one after a failure. Without
   * it the connection always uses `wsUrl`.
   */
  placement?: Placement;
  getToken: TokenProvider;
  /** The device id to announce in `?device=`, read at every connect. */
  deviceId: () => string | undefined;
  WebSocket: WebSocketConstructor;
  codec: Codec;
  backoff: Backoff;
  /** Overrides the server's `heartbeatIntervalMs`. */
  heartbeatIntervalMs?: number;
  pongTimeoutMs: number;
  /**
   * Timeout of the ping sent at once when the runtime reports a network change (`offline`, or `online` while
   * open); a missing pong marks the connection dead. @default 3000
   */
  probeTimeoutMs?: number;
  handshakeTimeoutMs: number;
  requestTimeoutMs: number;
  /** Sends the token as `Authorization: Bearer` (Node `ws` only) instead of `?access_token=`. */
  tokenInHeader: boolean;
  /** Clock, ms. */
  now: () => number;
}

interface PendingRequest {
  /** The request's type, to check that the answer is the one it expects. */
  t: RequestType;
  resolve(frame: ServerFrame): void;
  reject(err: Error): void;
  timer: ReturnType<typeof setTimeout>;
}

const UNAUTHORIZED_CODES = new Set<string>(['NATTER_UNAUTHORIZED', 'NATTER_INVALID_CREDENTIALS']);
// A session shorter than this counts as a failed attempt (the backoff keeps growing), so neither a broken token
// source (4001 at once) nor a flapping node can make the client spin.
const STABLE_SESSION_MS = 1_000;
/**
 * Close codes of an open session that blame the node (it crashed, restarts, drains, failed or is full), so the
 * client avoids it and moves on; other codes (normal, policy, token, a heartbeat the server missed) do not.
 */
const NODE_FAULT_CLOSES = new Set<number>([
  1006,
  CloseCode.GOING_AWAY,
  CloseCode.INTERNAL_ERROR,
  1012,
  CloseCode.TRY_AGAIN_LATER,
]);

/**
 * The one connection state machine: idle → connecting → open → reconnecting → connecting … → closed.
 * Reconnects with full-jitter backoff, honours server delays, pings to detect dead sockets, refreshes the
 * token after 4001, rediscovers the node after it went away, and correlates requests with their answers.
 */
export class Connection extends Emitter<ConnectionEvents> {
  private state: State = { status: 'idle' };
  private attemptSeq = 0;
  private nextRid = 1;
  private readonly pending = new Map<number, PendingRequest>();
  private preHello: ServerFrame[] = [];
  private handshakeTimer: ReturnType<typeof setTimeout> | undefined;
  private heartbeatTimer: ReturnType<typeof setTimeout> | undefined;
  private lastSocketError: string | undefined;
  private wantFreshToken = false;
  /** The node of the current attempt or session, as the placement knows it. */
  private attemptNode: string | undefined;
  private lastLimits: ProtocolLimits = { ...DEFAULT_LIMITS };
  private removeNetworkListeners: (() => void) | undefined;
  /** The socket a network-change probe is in flight on: one probe at a time. */
  private probing: WebSocketLike | undefined;

  constructor(private readonly options: ConnectionOptions) {
    super((err, event) => {
      // A throwing 'error' listener is dropped: re-emitting it would loop.
      if (event !== 'error') queueMicrotask(() => this.emit('error', toError(err)));
    });
  }

  /** The current status. */
  get status(): ConnectionStatus {
    return this.state.status;
  }

  /** The open session's `hello`, or undefined when not open. */
  get hello(): HelloFrame | undefined {
    return this.state.status === 'open' ? this.state.hello : undefined;
  }

  /** Limits announced by the last `hello` (the protocol defaults before the first). */
  get limits(): ProtocolLimits {
    return this.lastLimits;
  }

  /** Starts connecting; does nothing when already connecting, open or waiting to reconnect. */
  connect(): void {
    const { status } = this.state;
    if (status === 'connecting' || status === 'open' || status === 'reconnecting') return;
    this.listenForNetwork();
    this.startAttempt(0, StateReason.CONNECT);
  }

  /** Closes for good (until `connect()` again). Requests in flight fail with `NATTER_CLIENT_CLOSED`. */
  close(): void {
    this.removeNetworkListeners?.();
    this.removeNetworkListeners = undefined;
    if (this.state.status === 'closed' || this.state.status === 'idle') {
      this.setState({ status: 'closed' }, StateReason.CLIENT_CLOSED);
      return;
    }
    this.attemptSeq++;
    const socket = this.currentSocket();
    const wasOpen = this.state.status === 'open';
    if (this.state.status === 'reconnecting') clearTimeout(this.state.timer);
    this.teardown(new NatterError(ErrorCode.CLIENT_CLOSED, 'client closed'));
    if (socket) this.dropSocket(socket, 'client closed', true);
    this.setState({ status: 'closed' }, StateReason.CLIENT_CLOSED);
    if (wasOpen) this.emit('down', { closeCode: CloseCode.NORMAL });
  }

  /**
   * Sends a request and resolves with its answer, typed by the protocol's request→answer map (`send` →
   * `ack`, `sync` → `sync.page`, ...); an `error` answer rejects with a `NatterError` carrying the server's
   * code, an answer of another type with `NATTER_BAD_RESPONSE`. Rejects with a retryable
   * `NATTER_UNAVAILABLE` when not open, when the connection drops first, or after `timeoutMs`.
   */
  request<F extends RequestFrame>(
    frame: F,
    timeoutMs = this.options.requestTimeoutMs,
  ): Promise<AnswerOf<F['t']>> {
    if (this.state.status !== 'open') return Promise.reject(connectionLost('not connected'));
    const { socket } = this.state;
    const rid = this.nextRid;
    this.nextRid = this.nextRid >= 0xffff_ffff ? 1 : this.nextRid + 1;
    return new Promise<AnswerOf<F['t']>>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(rid);
        reject(connectionLost(`no answer to ${frame.t} within ${timeoutMs} ms`));
      }, timeoutMs);
      // dispatch() checks the answer's type against ANSWERS[t] before resolving.
      this.pending.set(rid, { t: frame.t, resolve: resolve as (frame: ServerFrame) => void, reject, timer });
      try {
        socket.send(this.options.codec.encode({ ...frame, rid }));
      } catch (err) {
        clearTimeout(timer);
        this.pending.delete(rid);
        reject(connectionLost(`send failed: ${toError(err).message}`));
      }
    });
  }

  /**
   * Sends a frame that the server answers only when it fails (`typing`, `received`). Returns false, and sends
   * nothing, when the connection is not open.
   */
  notify(frame: NotificationFrame): boolean {
    if (this.state.status !== 'open') return false;
    const rid = this.nextRid;
    this.nextRid = this.nextRid >= 0xffff_ffff ? 1 : this.nextRid + 1;
    try {
      this.state.socket.send(this.options.codec.encode({ ...frame, rid }));
      return true;
    } catch {
      return false;
    }
  }

  private setState(
    next: State,
    reason: StateReason,
    extra: Omit<StateChange, 'status' | 'previous' | 'reason'> = {},
  ) {
    const previous = this.state.status;
    this.state = next;
    if (previous !== next.status) this.emit('state', { status: next.status, previous, reason, ...extra });
  }

  private currentSocket(): WebSocketLike | undefined {
    return this.state.status === 'connecting' || this.state.status === 'open' ? this.state.socket : undefined;
  }

  private startAttempt(failures: number, reason: StateReason): void {
    const id = ++this.attemptSeq;
    this.setState({ status: 'connecting', failures, socket: undefined }, reason, { failures });
    void this.runAttempt(id, failures);
  }

  private async runAttempt(id: number, failures: number): Promise<void> {
    let url: string;
    let token: string;
    try {
      const target = await this.resolveTarget();
      if (id !== this.attemptSeq) return;
      if (target.kind === 'none') {
        this.scheduleReconnect(
          failures,
          StateReason.NO_HEALTHY_NODE,
          target.error ? { error: target.error } : {},
          undefined,
          target.retryAfterMs,
        );
        return;
      }
      url = target.url;
      this.attemptNode = target.nodeId;
      token = await this.options.getToken({ refresh: this.wantFreshToken });
      this.wantFreshToken = false;
    } catch (err) {
      if (id !== this.attemptSeq) return;
      const code = errorCodeOf(err);
      if (code !== undefined && UNAUTHORIZED_CODES.has(code)) {
        this.setState({ status: 'closed' }, StateReason.UNAUTHORIZED, { error: toError(err) });
        return;
      }
      this.scheduleReconnect(failures, StateReason.TOKEN_FAILED, { error: toError(err) });
      return;
    }
    if (id !== this.attemptSeq) return;
    let socket: WebSocketLike;
    try {
      socket = this.createSocket(url, token);
    } catch (err) {
      this.scheduleReconnect(failures, StateReason.CONNECT_FAILED, { error: toError(err) });
      return;
    }
    this.lastSocketError = undefined;
    this.preHello = [];
    this.setState({ status: 'connecting', failures, socket }, StateReason.CONNECT);
    this.handshakeTimer = setTimeout(() => {
      if (this.currentSocket() !== socket || this.state.status !== 'connecting') return;
      this.dropSocket(socket, 'handshake timeout');
      this.afterSocketGone(1006, '', StateReason.HANDSHAKE_TIMEOUT);
    }, this.options.handshakeTimeoutMs);
  }

  private createSocket(url: string, token: string): WebSocketLike {
    const { WebSocket, codec, tokenInHeader } = this.options;
    // Built by hand: React Native's URL implementation lacks a working `searchParams`.
    const params: string[] = [];
    if (!tokenInHeader) params.push(`access_token=${encodeURIComponent(token)}`);
    const deviceId = this.options.deviceId();
    if (deviceId) params.push(`device=${encodeURIComponent(deviceId)}`);
    const target = params.length === 0 ? url : `${url}${url.includes('?') ? '&' : '?'}${params.join('&')}`;
    const subprotocol = subprotocolForCodec(codec.name);
    const socket = tokenInHeader
      ? new WebSocket(target, subprotocol, { headers: { authorization: `Bearer ${token}` } })
      : new WebSocket(target, subprotocol);
    socket.binaryType = 'arraybuffer';
    socket.onmessage = (event: MessageEventLike) => {
      if (this.currentSocket() === socket) this.onData(socket, event.data);
    };
    socket.onerror = (event: ErrorEventLike) => {
      if (this.currentSocket() !== socket) return;
      this.lastSocketError =
        event.message ?? (event.error instanceof Error ? event.error.message : undefined);
    };
    socket.onclose = (event: CloseEventLike) => {
      if (this.currentSocket() !== socket) return;
      this.detach(socket);
      this.afterSocketGone(event.code, event.reason ?? '');
    };
    return socket;
  }

  /** Where the next attempt goes: the placement's choice, or the configured URL without one. */
  private async resolveTarget(): Promise<
    | { kind: 'node'; url: string; nodeId: string | undefined }
    | { kind: 'none'; retryAfterMs: number | undefined; error: Error | undefined }
  > {
    const { placement, wsUrl } = this.options;
    if (!placement) return { kind: 'node', url: wsUrl, nodeId: undefined };
    const decision = await placement.next();
    if (decision.kind === 'none') return decision;
    return { kind: 'node', url: decision.node.wsUrl, nodeId: decision.node.nodeId };
  }

  private onData(socket: WebSocketLike, data: unknown): void {
    const frameData = toFrameData(data);
    let decoded: unknown;
    try {
      if (!frameData) throw new Error('not a WebSocket payload');
      decoded = this.options.codec.decode(frameData.bytes, frameData.isBinary);
    } catch {
      this.emit('error', new NatterError(ErrorCode.BAD_RESPONSE, 'dropped an undecodable server frame'));
      return;
    }
    const parsed = parseServerFrame(decoded);
    if (parsed.ok === 'unknown') return; // a frame type a newer server added: ignored
    if (!parsed.ok) {
      // A malformed answer still settles its request, so the caller is not left waiting for a timeout.
      const pending = parsed.rid === undefined ? undefined : this.pending.get(parsed.rid);
      if (pending && parsed.rid !== undefined) this.settle(parsed.rid, pending, parsed.error);
      this.emit('error', parsed.error);
      return;
    }
    const frame = parsed.frame;
    if (this.state.status === 'connecting') {
      if (frame.t === 'hello') this.onHello(socket, frame);
      // The server registers for live delivery before it says hello, so entries may precede it.
      else this.preHello.push(frame);
      return;
    }
    this.dispatch(frame);
  }

  private onHello(socket: WebSocketLike, hello: HelloFrame): void {
    clearTimeout(this.handshakeTimer);
    this.lastLimits = { ...DEFAULT_LIMITS, ...hello.limits };
    const node = this.attemptNode;
    if (node !== undefined) this.options.placement?.opened(node);
    const failures = this.state.status === 'connecting' ? this.state.failures : 0;
    this.setState(
      { status: 'open', socket, hello, openedAt: this.options.now(), failures },
      StateReason.HELLO,
      node !== undefined ? { node } : {},
    );
    this.emit('open', hello);
    const early = this.preHello;
    this.preHello = [];
    for (const frame of early) {
      if (this.currentSocket() !== socket) return;
      this.dispatch(frame);
    }
    this.scheduleHeartbeat(socket);
  }

  /**
   * Routes one frame: entries to the log stream, answers to their requests (only there), everything else to
   * `frame` listeners.
   */
  private dispatch(frame: ServerFrame): void {
    if (frame.t === 'hello') return;
    if (frame.t === 'msg' || frame.t === 'ack') this.emit('entry', frame.entry);
    // The answer to a change carries the caller's entry for it: the sending connection gets no `msg`.
    else if (frame.t === 'mutated' && frame.entry) this.emit('entry', frame.entry);
    const rid = 'rid' in frame ? frame.rid : undefined;
    const pending = rid === undefined ? undefined : this.pending.get(rid);
    if (rid === undefined || !pending) {
      // An answer whose request timed out or was never made is dropped; its entry (ack) was emitted above.
      if (rid === undefined && frame.t !== 'msg') this.emit('frame', frame);
      if (rid === undefined && frame.t === 'error')
        this.emit('error', errorFromWire(frame.code, frame.message, frame.retryAfterMs));
      return;
    }
    if (frame.t === 'error') {
      this.settle(rid, pending, errorFromWire(frame.code, frame.message, frame.retryAfterMs));
    } else if (frame.t !== ANSWERS[pending.t]) {
      this.settle(
        rid,
        pending,
        new NatterError(ErrorCode.BAD_RESPONSE, `unexpected answer ${frame.t} to ${pending.t}`),
      );
    } else {
      this.pending.delete(rid);
      clearTimeout(pending.timer);
      pending.resolve(frame);
    }
  }

  /** Rejects a pending request. */
  private settle(rid: number, pending: PendingRequest, error: Error): void {
    this.pending.delete(rid);
    clearTimeout(pending.timer);
    pending.reject(error);
  }

  private scheduleHeartbeat(socket: WebSocketLike): void {
    clearTimeout(this.heartbeatTimer);
    const interval = this.options.heartbeatIntervalMs ?? this.lastLimits.heartbeatIntervalMs;
    this.heartbeatTimer = setTimeout(() => {
      if (this.currentSocket() !== socket) return;
      this.request({ t: 'ping' }, this.options.pongTimeoutMs).then(
        () => {
          if (this.currentSocket() === socket) this.scheduleHeartbeat(socket);
        },
        () => this.deadSocket(socket, StateReason.HEARTBEAT_TIMEOUT),
      );
    }, interval);
  }

  /**
   * Checks at once that the open socket still works: a ping with the short `probeTimeoutMs`. Browsers keep a
   * socket "open" for a long time after the network went away; without the probe the client would notice
   * only at the next heartbeat, and sends would wait out their timeout.
   */
  private probe(): void {
    if (this.state.status !== 'open') return;
    const { socket } = this.state;
    if (this.probing === socket) return;
    this.probing = socket;
    this.request({ t: 'ping' }, this.options.probeTimeoutMs ?? 3_000).then(
      () => {
        if (this.probing === socket) this.probing = undefined;
      },
      () => {
        if (this.probing === socket) this.probing = undefined;
        this.deadSocket(socket, StateReason.PROBE_TIMEOUT);
      },
    );
  }

  /** A ping went unanswered: drops the socket (without waiting for a close handshake) and reconnects. */
  private deadSocket(socket: WebSocketLike, reason: StateReason): void {
    if (this.currentSocket() !== socket) return;
    this.dropSocket(socket, reason);
    this.afterSocketGone(CloseCode.HEARTBEAT_TIMEOUT, '', reason);
  }

  /** Decides what follows a socket that is gone, by its close code. */
  private afterSocketGone(closeCode: number, closeReason: string, forced?: StateReason): void {
    const previous = this.state;
    if (previous.status !== 'connecting' && previous.status !== 'open') return;
    this.teardown(connectionLost());
    if (previous.status === 'open') this.emit('down', { closeCode });
    // A session that ended at once does not reset the backoff: a node that says hello and then drops every
    // session (flapping) is retried at a growing, jittered pace instead of every few hundred ms.
    const failures =
      previous.status === 'connecting'
        ? previous.failures
        : this.options.now() - previous.openedAt < STABLE_SESSION_MS
          ? previous.failures
          : 0;
    const node = this.attemptNode;
    const extra = { closeCode, ...(node !== undefined ? { node } : {}) };
    if (TERMINAL_CLOSE_CODES.has(closeCode)) {
      this.setState({ status: 'closed' }, StateReason.REVOKED, extra);
      return;
    }
    const retryAfterMs = parseRetryAfter(closeReason);
    if (forced) {
      // No hello, or no pong: the node (or the way to it) does not answer.
      this.failover(previous.status === 'open', failures, forced, extra, retryAfterMs);
      return;
    }
    if (closeCode === CloseCode.TOKEN_EXPIRED) {
      this.wantFreshToken = true;
      const stable =
        previous.status === 'open' && this.options.now() - previous.openedAt >= STABLE_SESSION_MS;
      this.scheduleReconnect(failures, StateReason.TOKEN_EXPIRED, extra, stable ? 0 : undefined);
      return;
    }
    if (previous.status === 'connecting') {
      // Browsers hide the HTTP status of a refused upgrade; `ws` reports it in the error message.
      const refusedToken = /\b40[13]\b/.test(this.lastSocketError ?? '');
      if (this.lastSocketError === undefined || refusedToken) this.wantFreshToken = true;
      const detail = {
        ...extra,
        ...(this.lastSocketError ? { error: new Error(this.lastSocketError) } : {}),
      };
      // Every node would refuse the same token: that is no reason to avoid this one.
      if (refusedToken) this.scheduleReconnect(failures, StateReason.CONNECT_FAILED, detail);
      else this.failover(false, failures, StateReason.CONNECT_FAILED, detail, retryAfterMs);
      return;
    }
    const reason = closeCode === CloseCode.GOING_AWAY ? StateReason.GOING_AWAY : StateReason.SOCKET_CLOSED;
    if (NODE_FAULT_CLOSES.has(closeCode)) this.failover(true, failures, reason, extra, retryAfterMs);
    else this.scheduleReconnect(failures, reason, extra, undefined, retryAfterMs);
  }

  /**
   * The node of this attempt or session failed. With a placement, the node is avoided for a while (at least
   * the delay it named) and the next attempt goes elsewhere: at once after a failed attempt while the round has
   * an untried candidate, else after the jittered backoff (an open session's crowd spreads over the survivors
   * instead of arriving together). Without one, the named delay plus backoff, as before.
   */
  private failover(
    afterOpen: boolean,
    failures: number,
    reason: StateReason,
    extra: Omit<StateChange, 'status' | 'previous' | 'reason'>,
    retryAfterMs: number | undefined,
  ): void {
    const { placement } = this.options;
    const node = this.attemptNode;
    if (!placement || node === undefined) {
      this.scheduleReconnect(failures, reason, extra, undefined, retryAfterMs);
      return;
    }
    const advice = placement.failed(node, {
      afterOpen,
      ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
    });
    this.scheduleReconnect(failures, reason, extra, advice === 'now' ? 0 : undefined);
  }

  private scheduleReconnect(
    failures: number,
    reason: StateReason,
    extra: Omit<StateChange, 'status' | 'previous' | 'reason'>,
    fixedDelayMs?: number,
    retryAfterMs?: number,
  ): void {
    const delayMs = fixedDelayMs ?? delayWithRetryAfter(this.options.backoff(failures), retryAfterMs);
    const next = failures + 1;
    const timer = setTimeout(() => {
      if (this.state.status === 'reconnecting' && this.state.timer === timer)
        this.startAttempt(next, StateReason.RETRY);
    }, delayMs);
    this.setState({ status: 'reconnecting', failures: next, timer }, reason, {
      ...extra,
      delayMs,
      failures: next,
    });
  }

  /** Ends the socket's session state: timers and requests in flight. */
  private teardown(error: Error): void {
    clearTimeout(this.handshakeTimer);
    clearTimeout(this.heartbeatTimer);
    this.preHello = [];
    const pending = [...this.pending.values()];
    this.pending.clear();
    for (const request of pending) {
      clearTimeout(request.timer);
      request.reject(error);
    }
  }

  private detach(socket: WebSocketLike): void {
    socket.onopen = null;
    socket.onmessage = null;
    socket.onclose = null;
    socket.onerror = null;
  }

  /** Closes a socket without waiting for its close handshake (a dead network never completes it). */
  private dropSocket(socket: WebSocketLike, reason: string, graceful = false): void {
    this.detach(socket);
    // A late error from a socket we abandoned must not become an unhandled 'error' event in Node.
    socket.onerror = () => {};
    try {
      const terminate = (socket as { terminate?: () => void }).terminate;
      if (typeof terminate === 'function' && !graceful) terminate.call(socket);
      else socket.close(CloseCode.NORMAL, reason);
    } catch {
      // Closing a socket that is still connecting throws in some runtimes; it is abandoned either way.
    }
  }

  /**
   * Follows the runtime's network events where there are any (browsers): `online` while waiting to reconnect
   * retries at once; `offline`, and `online` while open, probe the socket (see {@link probe}).
   */
  private listenForNetwork(): void {
    if (this.removeNetworkListeners) return;
    const target = globalThis as {
      addEventListener?: (type: string, fn: () => void) => void;
      removeEventListener?: (type: string, fn: () => void) => void;
    };
    if (typeof target.addEventListener !== 'function') return;
    const onOnline = () => {
      if (this.state.status === 'open') {
        this.probe();
        return;
      }
      if (this.state.status !== 'reconnecting') return;
      clearTimeout(this.state.timer);
      this.startAttempt(this.state.failures, StateReason.ONLINE);
    };
    const onOffline = () => this.probe();
    target.addEventListener('online', onOnline);
    target.addEventListener('offline', onOffline);
    this.removeNetworkListeners = () => {
      target.removeEventListener?.('online', onOnline);
      target.removeEventListener?.('offline', onOffline);
    };
  }
}
