import { CloseCode, FrameDecodeError, msgpackCodec, type ServerFrame } from '@natter/protocol';
import type { ClientConnection, ConnectionHandler, Principal } from '@natter/server-core';
import type { SimDeviceTag, SimNetwork, SimServerEndpoint } from './sim-network.js';
import type { SimSocket } from './sim-socket.js';

/**
 * One simulated connection. Each direction keeps a delivery horizon so frames arrive in the order they
 * were sent; `dead` (reset) and `stalled` (half-open: everything vanishes, nobody is told) are checked at
 * delivery time, so frames in flight die with the connection.
 */
export class SimLink {
  state: 'connecting' | 'open' | 'dead' = 'connecting';
  stalled = false;
  server: SimServerEndpoint | undefined;
  private handler: ConnectionHandler | undefined;
  private toServerAt = 0;
  private toClientAt = 0;
  private queuedBytes = 0;
  /** The server closed: later server frames are dropped; the client gets the close after queued frames. */
  private serverClosed = false;
  /** The client closed: later client frames are dropped; the server gets the close after queued frames. */
  private clientClosed = false;

  constructor(
    readonly id: number,
    private readonly network: SimNetwork,
    readonly socket: SimSocket,
  ) {}

  get tag(): SimDeviceTag {
    return this.socket.tag;
  }

  accept(server: SimServerEndpoint, principal: Principal, deviceId: string | undefined): void {
    this.state = 'open';
    this.server = server;
    this.socket.opened();
    const connection: ClientConnection = {
      send: (frame) => this.fromServer(frame),
      close: (code, reason) => this.closeFromServer(code, reason),
      bufferedBytes: () => this.queuedBytes,
    };
    this.handler = server.accept(principal, deviceId, connection);
  }

  /** The connect attempt failed (refused, 401, or the link was reset before it opened). */
  fail(message: string): void {
    if (this.state === 'dead') return;
    this.state = 'dead';
    this.network.forget(this);
    this.socket.died(message, 1006, '');
  }

  /** A frame from the client. */
  fromClient(data: string | Uint8Array): void {
    if (this.state !== 'open' || this.clientClosed) return;
    const { network } = this;
    if (network.rng.chance(network.profile.dropFrame)) {
      network.stats.drops++;
      this.reset({});
      return;
    }
    // A copy: `ws`/msgpackr hand out Buffers that share a pool (Buffer#slice does not copy).
    const bytes = typeof data === 'string' ? data : new Uint8Array(data);
    const copies = network.rng.chance(network.profile.dupClientFrame) ? 2 : 1;
    if (copies === 2) network.stats.duplicatedToServer++;
    const at = this.horizon('toServer');
    for (let i = 0; i < copies; i++) {
      setTimeout(() => this.deliverToServer(bytes), at - Date.now());
    }
  }

  private deliverToServer(bytes: string | Uint8Array): void {
    if (this.state !== 'open' || this.stalled || !this.handler) return;
    let frame: unknown;
    try {
      frame = msgpackCodec.decode(bytes, typeof bytes !== 'string');
    } catch (err) {
      const code = err instanceof FrameDecodeError ? err.closeCode : CloseCode.PROTOCOL_ERROR;
      this.closeFromServer(code, 'undecodable frame');
      return;
    }
    this.network.stats.framesToServer++;
    const f = frame as { t?: string; rid?: number };
    this.network.record('c2s', this.id, f.t ?? '?', f.rid ?? '');
    this.handler.onFrame(frame);
  }

  /** A frame from the server. */
  private fromServer(frame: ServerFrame): void {
    if (this.state !== 'open' || this.serverClosed) return;
    const { network } = this;
    if (network.rng.chance(network.profile.dropFrame)) {
      network.stats.drops++;
      this.reset({});
      return;
    }
    if (frame.t === 'ack' && frame.duplicate) network.stats.duplicateAcks++;
    if (frame.t === 'error' && frame.code === 'NATTER_RATE_LIMITED') network.stats.rateLimited++;
    // An ArrayBuffer of its own, as a browser delivers it (msgpackr reuses its output buffer).
    const data = new Uint8Array(msgpackCodec.encode(frame) as Uint8Array).buffer;
    const duplicate =
      (frame.t === 'msg' || frame.t === 'ack') && network.rng.chance(network.profile.dupServerEntry);
    if (duplicate) network.stats.duplicatedToClient++;
    const at = this.horizon('toClient');
    for (let i = 0; i < (duplicate ? 2 : 1); i++) {
      this.queuedBytes += data.byteLength;
      setTimeout(() => {
        this.queuedBytes -= data.byteLength;
        if (this.state !== 'open' || this.stalled) return;
        network.stats.framesToClient++;
        const entry = 'entry' in frame ? (frame.entry?.pos ?? '') : '';
        network.record('s2c', this.id, frame.t, entry);
        this.socket.message(data);
      }, at - Date.now());
    }
  }

  /** The server closes: the client sees the close after every frame sent before it. */
  private closeFromServer(code: number, reason: string): void {
    if (this.state !== 'open' || this.serverClosed) return;
    this.serverClosed = true;
    this.network.stats.serverCloses++;
    if (code === CloseCode.POLICY_VIOLATION) this.network.stats.policyCloses++;
    if (code === CloseCode.HEARTBEAT_TIMEOUT) this.network.stats.heartbeatCloses++;
    const at = this.horizon('toClient');
    setTimeout(() => {
      if (this.state !== 'open' || this.stalled) return;
      this.network.record('server-close', this.id, code);
      this.finish();
      this.socket.died(undefined, code, reason);
    }, at - Date.now());
    // The transport reports the close to the handler as `ws` does (ChatSession ignores a second call).
    this.handler?.onClose(code);
  }

  /** The client closes (`close()`) or aborts (`terminate()`, code 1006). */
  closeFromClient(code: number): void {
    if (this.state === 'connecting') {
      this.fail('closed before open');
      return;
    }
    if (this.state !== 'open' || this.clientClosed) return;
    this.clientClosed = true;
    const abort = code === 1006;
    const at = abort
      ? Date.now() + this.network.delay(this.network.profile.latencyMs)
      : this.horizon('toServer');
    setTimeout(() => {
      if (this.state !== 'open' || this.stalled) return;
      this.network.record('client-close', this.id, code);
      this.finish();
      this.handler?.onClose(code);
    }, at - Date.now());
  }

  /**
   * The connection dies (TCP reset): frames in flight are lost; the client learns after one delay, the
   * server after another (never, when the server process itself is gone).
   */
  reset(options: { notifyServer?: boolean }): void {
    if (this.state === 'dead') return;
    if (this.state === 'connecting') {
      this.fail('connect ECONNRESET');
      return;
    }
    this.network.stats.resets++;
    this.network.record('reset', this.id);
    const handler = this.handler;
    const wasStalled = this.stalled;
    this.finish();
    const { network } = this;
    setTimeout(() => this.socket.died('read ECONNRESET', 1006, ''), network.delay(network.profile.latencyMs));
    if (options.notifyServer !== false && !wasStalled && handler) {
      setTimeout(() => handler.onClose(1006), network.delay(network.profile.latencyMs));
    }
  }

  /** Half-open: from now on nothing arrives either way and nobody is told; heartbeats must find out. */
  stall(): void {
    if (this.state !== 'open' || this.stalled) return;
    this.stalled = true;
    this.network.stats.stalls++;
    this.network.record('stall', this.id);
  }

  private finish(): void {
    this.state = 'dead';
    this.network.forget(this);
  }

  private horizon(direction: 'toServer' | 'toClient'): number {
    const at = Math.max(
      direction === 'toServer' ? this.toServerAt : this.toClientAt,
      Date.now() + this.network.delay(this.network.profile.latencyMs),
    );
    if (direction === 'toServer') this.toServerAt = at;
    else this.toClientAt = at;
    return at;
  }
}
