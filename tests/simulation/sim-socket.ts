import type { WebSocketLike } from '@natter/client';
import type { SimLink } from './sim-link.js';
import type { SimDeviceTag, SimNetwork } from './sim-network.js';

type Handler = ((event: never) => void) | null;
type Emit<E> = ((event: E) => void) | null;

/** The client end: a `WebSocketLike` the SDK drives like a browser WebSocket. */
export class SimSocket implements WebSocketLike {
  readyState = 0;
  protocol = '';
  binaryType = 'blob';
  onopen: Handler = null;
  onmessage: Handler = null;
  onclose: Handler = null;
  onerror: Handler = null;
  /** @internal */
  link!: SimLink;

  constructor(
    readonly url: string,
    readonly protocols: string | string[] | undefined,
    network: SimNetwork,
    readonly tag: SimDeviceTag,
  ) {
    network.open(this);
  }

  send(data: string | Uint8Array): void {
    if (this.readyState === 0) throw new Error('WebSocket is not open: readyState 0 (CONNECTING)');
    if (this.readyState !== 1) return;
    this.link.fromClient(data);
  }

  close(code = 1000): void {
    if (this.readyState >= 2) return;
    this.readyState = 2;
    this.link.closeFromClient(code);
  }

  /** An abortive close (what `ws` offers and the SDK prefers for a dead connection). */
  terminate(): void {
    if (this.readyState >= 2) return;
    this.readyState = 2;
    this.link.closeFromClient(1006);
  }

  /** @internal */
  opened(): void {
    this.readyState = 1;
    this.protocol = Array.isArray(this.protocols) ? (this.protocols[0] ?? '') : (this.protocols ?? '');
    (this.onopen as Emit<unknown>)?.({});
  }

  /** @internal */
  message(data: ArrayBuffer): void {
    if (this.readyState !== 1) return;
    (this.onmessage as Emit<{ data: unknown }>)?.({ data });
  }

  /** @internal */
  died(error: string | undefined, code: number, reason: string): void {
    if (this.readyState === 3) return;
    this.readyState = 3;
    if (error !== undefined) (this.onerror as Emit<{ message: string }>)?.({ message: error });
    (this.onclose as Emit<{ code: number; reason: string }>)?.({ code, reason });
  }
}
