import type { MessagePort } from 'node:worker_threads';

/**
 * One end of a message pipe between the primary and a worker: `node:cluster`'s IPC channel in production
 * (structured clone with `serialization: 'advanced'`, so `Uint8Array` crosses as bytes), a
 * `worker_threads` `MessagePort` in tests. Everything the multicore pieces exchange goes through this.
 */
export interface IpcPort {
  /** Sends a message; false when the other end is gone (the message is dropped). */
  send(message: IpcMessage): boolean;
  /** Registers a listener for incoming messages; returns a function that removes it. */
  onMessage(listener: (message: unknown) => void): () => void;
  /** Registers a listener for the other end going away. */
  onClose(listener: () => void): void;
}

/** Every message carries this tag, so the multicore pieces ignore what other code sends on the channel. */
export const IPC_TAG = 'natter-mc';

/** A tagged message; `kind` names the piece and step (`rpc.call`, `broker.publish`, ...). */
export interface IpcMessage {
  tag: typeof IPC_TAG;
  kind: string;
  [field: string]: unknown;
}

/** True for a message of the multicore pieces of the given kind. */
export function isIpcMessage(message: unknown, kind?: string): message is IpcMessage {
  if (typeof message !== 'object' || message === null) return false;
  const m = message as { tag?: unknown; kind?: unknown };
  return m.tag === IPC_TAG && typeof m.kind === 'string' && (kind === undefined || m.kind === kind);
}

/** The shape shared by `process` (in a worker) and `cluster.Worker` (in the primary). */
interface NodeIpcEnd {
  send?(message: unknown): boolean;
  connected?: boolean;
  isConnected?(): boolean;
  on(event: 'message', listener: (message: unknown) => void): unknown;
  on(event: 'disconnect', listener: () => void): unknown;
  off(event: 'message', listener: (message: unknown) => void): unknown;
}

/**
 * Sends what one turn of the event loop produces as one message. Each pipe message costs a serialization
 * and a system call on both sides; under load a worker sends many calls per turn (one per socket frame),
 * and the primary many answers and deliveries, so this divides the pipe's cost per chat message.
 */
export function batching(inner: IpcPort): IpcPort {
  let queue: IpcMessage[] = [];
  let open = true;
  inner.onClose(() => {
    open = false;
  });
  const flush = () => {
    const messages = queue;
    queue = [];
    if (messages.length === 1) inner.send(messages[0]!);
    else inner.send({ tag: IPC_TAG, kind: 'batch', messages });
  };
  return {
    send: (message) => {
      if (!open) return false;
      if (queue.push(message) === 1) setImmediate(flush);
      return true;
    },
    onMessage: (listener) =>
      inner.onMessage((message) => {
        if (!isIpcMessage(message, 'batch')) return listener(message);
        for (const one of message.messages as unknown[]) listener(one);
      }),
    onClose: (listener) => inner.onClose(listener),
  };
}

/** The port over `process` in a cluster worker, or over a `cluster.Worker` in the primary (batched). */
export function nodeIpcPort(end: NodeIpcEnd): IpcPort {
  return batching(rawNodeIpcPort(end));
}

function rawNodeIpcPort(end: NodeIpcEnd): IpcPort {
  return {
    send: (message) => {
      const connected = end.isConnected ? end.isConnected() : end.connected;
      if (!end.send || connected === false) return false;
      try {
        // `send` returns false only when the pipe's buffer is full: the message is still queued.
        end.send(message);
        return true;
      } catch {
        // The channel closed between the check and the send (the other end died).
        return false;
      }
    },
    onMessage: (listener) => {
      end.on('message', listener);
      return () => void end.off('message', listener);
    },
    onClose: (listener) => void end.on('disconnect', listener),
  };
}

/** The port over a `worker_threads` `MessagePort` (tests, or worker threads instead of processes), batched. */
export function messagePortPort(port: MessagePort): IpcPort {
  return batching(rawMessagePortPort(port));
}

function rawMessagePortPort(port: MessagePort): IpcPort {
  let open = true;
  const closeListeners: Array<() => void> = [];
  port.on('close', () => {
    open = false;
    for (const listener of closeListeners) listener();
  });
  return {
    send: (message) => {
      if (!open) return false;
      port.postMessage(message);
      return true;
    },
    onMessage: (listener) => {
      port.on('message', listener);
      return () => void port.off('message', listener);
    },
    onClose: (listener) => void closeListeners.push(listener),
  };
}
