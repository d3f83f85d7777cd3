import type { ServerFrame } from '@natter/protocol';

/**
 * What the chat engine needs from a transport: a way to send frames and to close. The `ws` adapter
 * implements it; any other transport (uWebSockets, a test harness, a simulated network) can too.
 */
export interface ClientConnection {
  /** Encodes and sends a frame. Must not throw; a dead connection drops it. */
  send(frame: ServerFrame): void;
  /** Closes with a WebSocket close code and a short reason. */
  close(code: number, reason: string): void;
  /** Bytes queued but not yet written to the network (for slow-consumer protection). */
  bufferedBytes(): number;
}

/** The engine's side of a connection: the transport feeds it decoded frames and tells it when it ends. */
export interface ConnectionHandler {
  /** A decoded, not yet validated, inbound frame. */
  onFrame(frame: unknown): void;
  /** The transport closed (either side). */
  onClose(code: number): void;
}
