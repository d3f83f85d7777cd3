import type { Duplex } from 'node:stream';
import { CloseCode, type Codec, FrameDecodeError, type ServerFrame } from '@natter/protocol';
import { type RawData, WebSocket } from 'ws';
import type { Logger } from '../observability/logger.js';
import type { NatterMetrics } from '../observability/metrics.js';
import type { ClientConnection, ConnectionHandler } from '../ports/connection.js';
import { type FrameEncoder, frameEncoderFor } from './frame-encoder.js';

/**
 * The `ws` socket class the transport's server creates: it carries its {@link WsConnection}, so the same
 * three listener functions serve every socket instead of three closures (and their context) per socket.
 */
export class NatterSocket extends WebSocket {
  natterConnection: WsConnection | undefined = undefined;

  /** Routes this socket's events to `connection`. */
  wire(connection: WsConnection): void {
    this.natterConnection = connection;
    this.on('message', onSocketMessage);
    this.on('close', onSocketClose);
    this.on('error', onSocketError);
  }
}

// `ws` calls listeners with the socket as `this`; only NatterSockets get these.
function onSocketMessage(this: WebSocket, data: RawData, isBinary: boolean): void {
  (this as NatterSocket).natterConnection?.receive(data, isBinary);
}

function onSocketClose(this: WebSocket, code: number): void {
  (this as NatterSocket).natterConnection?.handler?.onClose(code);
}

// `ws` closes the socket itself on protocol errors and oversized frames (1002/1009); log and move on.
function onSocketError(this: WebSocket, err: Error): void {
  const deps = (this as NatterSocket).natterConnection?.deps;
  deps?.metrics.errors.inc({ code: 'ws_error' });
  deps?.logger.debug({ err }, 'websocket error');
}

/** How long a socket closed for a policy violation gets to read the close frame before it is dropped, ms. */
const POLICY_CLOSE_GRACE_MS = 0;

/** {@link ClientConnection} over a `ws` socket with the negotiated codec. */
export class WsConnection implements ClientConnection {
  /** Receives the decoded frames and the close; set by the transport once the engine accepted the socket. */
  handler: ConnectionHandler | undefined = undefined;
  /** True while the raw socket is corked for the frames of the current tick. */
  private corked = false;
  /** Shared by every connection of the codec: a message fanned out to many sockets is encoded once. */
  private readonly encoder: FrameEncoder;

  constructor(
    private readonly socket: WebSocket,
    /** The TCP socket under `socket`, corked while frames of one tick are written. */
    private readonly raw: Duplex,
    private readonly codec: Codec,
    readonly deps: { readonly metrics: NatterMetrics; readonly logger: Logger },
  ) {
    this.encoder = frameEncoderFor(codec);
  }

  send(frame: ServerFrame): void {
    if (this.socket.readyState !== WebSocket.OPEN) return;
    if (!this.corked) {
      // Every frame written in this tick (a group-commit batch dispatches many messages in one go) leaves
      // in one writev instead of one system call each; uncorked once the tick's work is done.
      this.corked = true;
      this.raw.cork();
      process.nextTick(uncork, this);
    }
    this.socket.send(this.encoder.encode(frame), { binary: this.codec.binary });
  }

  /** Ends the cork of {@link send}. */
  uncork(): void {
    if (!this.corked) return;
    this.corked = false;
    this.raw.uncork();
  }

  close(code: number, reason: string): void {
    if (this.socket.readyState === WebSocket.CLOSED) return;
    this.socket.close(code, reason);
    // A peer that never answers the close handshake must not hold the socket open. A policy close (flood,
    // slow consumer) ends a peer that will not read the close frame soon, nor stop sending: it is dropped
    // shortly instead of holding its queued bytes for seconds.
    const graceMs = code === CloseCode.POLICY_VIOLATION ? POLICY_CLOSE_GRACE_MS : 5_000;
    const timer = setTimeout(() => this.socket.terminate(), graceMs);
    timer.unref?.();
  }

  bufferedBytes(): number {
    return this.socket.bufferedAmount;
  }

  /** Decodes an inbound message for the handler; a frame that cannot be decoded closes the socket. */
  receive(data: RawData, isBinary: boolean): void {
    // Frames that arrive after we closed are not decoded: a flood that got closed costs no more CPU.
    if (this.socket.readyState !== WebSocket.OPEN) return;
    let frame: unknown;
    try {
      frame = this.codec.decode(toBytes(data), isBinary);
    } catch (err) {
      const code = err instanceof FrameDecodeError ? err.closeCode : CloseCode.PROTOCOL_ERROR;
      this.deps.metrics.errors.inc({ code: `close_${code}` });
      this.close(code, err instanceof Error ? err.message : 'undecodable frame');
      return;
    }
    this.handler?.onFrame(frame);
  }
}

function uncork(connection: WsConnection): void {
  connection.uncork();
}

function toBytes(data: RawData): Uint8Array {
  if (Array.isArray(data)) return Buffer.concat(data);
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  return data;
}
