import { BrokerError, type BrokerErrorCode, ErrorCode, NatterError } from '@natter/server-core';
import { IPC_TAG, type IpcPort, isIpcMessage } from './port.js';

/**
 * Request and answer over an {@link IpcPort}: the worker side calls a named method with structured-clone
 * arguments, the primary side runs it and answers with the value or the error. Errors keep their `code`
 * (callers check codes, never `instanceof`), their class for NatterError and BrokerError, and their message.
 */

/** An error as it crosses the pipe. */
export interface WireError {
  name: string;
  message: string;
  code?: string;
  retryAfterMs?: number;
}

/** Flattens an error for the pipe. */
export function errorToWire(error: unknown): WireError {
  if (!(error instanceof Error)) return { name: 'Error', message: String(error) };
  const { code, retryAfterMs } = error as { code?: unknown; retryAfterMs?: unknown };
  return {
    name: error.name,
    message: error.message,
    ...(typeof code === 'string' ? { code } : {}),
    ...(typeof retryAfterMs === 'number' ? { retryAfterMs } : {}),
  };
}

/** Rebuilds an error from the pipe: a NatterError or BrokerError again when it was one. */
export function errorFromWire(wire: WireError): Error {
  if (wire.name === 'NatterError' && wire.code !== undefined)
    return new NatterError(wire.code as ErrorCode, wire.message, wire.retryAfterMs);
  if (wire.name === 'BrokerError' && wire.code !== undefined)
    return new BrokerError(wire.code as BrokerErrorCode, wire.message);
  const error = new Error(wire.message);
  error.name = wire.name;
  if (wire.code !== undefined) Object.assign(error, { code: wire.code });
  return error;
}

/** The error of a call whose answer can no longer come: the primary went away. */
function primaryGone(method: string): Error {
  return new NatterError(ErrorCode.UNAVAILABLE, `${method}: the primary process is gone`);
}

/** The calling side. */
export class RpcClient {
  private nextId = 1;
  private closed = false;
  private readonly pending = new Map<
    number,
    { method: string; resolve: (v: unknown) => void; reject: (e: Error) => void }
  >();

  constructor(private readonly port: IpcPort) {
    port.onMessage((message) => {
      if (!isIpcMessage(message, 'rpc.answer')) return;
      const call = this.pending.get(message.id as number);
      if (!call) return;
      this.pending.delete(message.id as number);
      if (message.ok) call.resolve(message.value);
      else call.reject(errorFromWire(message.error as WireError));
    });
    port.onClose(() => this.fail());
  }

  /** Calls `method` on the primary; settles with its answer. */
  call<T>(method: string, args: readonly unknown[]): Promise<T> {
    if (this.closed) return Promise.reject(primaryGone(method));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { method, resolve: resolve as (v: unknown) => void, reject });
      if (!this.port.send({ tag: IPC_TAG, kind: 'rpc.call', id, method, args })) {
        this.pending.delete(id);
        reject(primaryGone(method));
      }
    });
  }

  /** Fails every call in flight (the pipe closed) and refuses new ones. */
  fail(): void {
    this.closed = true;
    for (const [id, call] of this.pending) {
      this.pending.delete(id);
      call.reject(primaryGone(call.method));
    }
  }
}

/** What the answering side runs: method name to implementation. */
export type RpcMethods = Record<string, (...args: never[]) => unknown>;

/** Finds the implementation of a method by name; undefined when there is none. */
export type RpcResolver = (method: string) => ((...args: never[]) => unknown) | undefined;

/**
 * Answers calls arriving on `port` with `methods` (a table, or a resolver for names made of paths);
 * returns a function that stops answering.
 */
export function serveRpc(port: IpcPort, methods: RpcMethods | RpcResolver): () => void {
  const find: RpcResolver =
    typeof methods === 'function'
      ? methods
      : (name) => (Object.hasOwn(methods, name) ? methods[name] : undefined);
  return port.onMessage((message) => {
    if (!isIpcMessage(message, 'rpc.call')) return;
    const { id, method, args } = message as unknown as { id: number; method: string; args: unknown[] };
    const answer = (result: { ok: true; value: unknown } | { ok: false; error: WireError }) =>
      port.send({ tag: IPC_TAG, kind: 'rpc.answer', id, ...result });
    const fn = find(method);
    if (!fn) {
      answer({ ok: false, error: errorToWire(new Error(`unknown method ${method}`)) });
      return;
    }
    let result: unknown;
    try {
      result = (fn as (...a: unknown[]) => unknown)(...(Array.isArray(args) ? args : []));
    } catch (error) {
      answer({ ok: false, error: errorToWire(error) });
      return;
    }
    Promise.resolve(result).then(
      (value) => answer({ ok: true, value }),
      (error: unknown) => answer({ ok: false, error: errorToWire(error) }),
    );
  });
}
