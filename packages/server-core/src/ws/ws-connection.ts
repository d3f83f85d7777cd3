import type { Codec, ServerFrame } from '@natter/protocol';
import { WebSocket } from 'ws';
import type { ClientConnection } from '../ports/connection.js';

/** {@link ClientConnection} over a `ws` socket with the negotiated codec. */
export class WsConnection implements ClientConnection {
  constructor(
    private readonly socket: WebSocket,
    private readonly codec: Codec,
  ) {}

  send(frame: ServerFrame): void {
    if (this.socket.readyState !== WebSocket.OPEN) return;
    this.socket.send(this.codec.encode(frame), { binary: this.codec.binary });
  }

  close(code: number, reason: string): void {
    if (this.socket.readyState === WebSocket.CLOSED) return;
    this.socket.close(code, reason);
    // A peer that never answers the close handshake must not hold the socket open.
    const timer = setTimeout(() => this.socket.terminate(), 5_000);
    timer.unref?.();
  }

  bufferedBytes(): number {
    return this.socket.bufferedAmount;
  }
}
