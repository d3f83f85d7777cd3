import { type Broker, BrokerError, BrokerErrorCode, BrokerErrorListeners } from '@natter/server-core';
import { IPC_TAG, type IpcPort, isIpcMessage } from './port.js';
import type { RpcClient, RpcMethods } from './rpc.js';

/**
 * The broker of one multicore deployment: the primary relays every publish to the workers subscribed to
 * its topic. No external server; the pipes are reliable and ordered, so a publish that left a worker
 * reaches every live subscriber in publish order (better than the port asks: the sync log stays the record).
 */
export class BrokerHub {
  /** Topic to the ports subscribed to it. */
  private readonly topics = new Map<string, Set<IpcPort>>();

  /**
   * Relays one worker's publishes on `port`; returns its calls (subscribe, unsubscribe) for the port's
   * one RPC server. Its subscriptions go when the port closes.
   */
  attach(port: IpcPort): RpcMethods {
    const mine = new Set<string>();
    const methods: RpcMethods = {
      'broker.subscribe': (topic: string) => {
        const ports = this.topics.get(topic) ?? new Set<IpcPort>();
        this.topics.set(topic, ports);
        ports.add(port);
        mine.add(topic);
      },
      'broker.unsubscribe': (topic: string) => {
        this.remove(topic, port);
        mine.delete(topic);
      },
    };
    port.onMessage((message) => {
      if (!isIpcMessage(message, 'broker.publish')) return;
      const topic = message.topic as string;
      for (const target of this.topics.get(topic) ?? []) {
        target.send({ tag: IPC_TAG, kind: 'broker.deliver', topic, payload: message.payload });
      }
    });
    port.onClose(() => {
      for (const topic of mine) this.remove(topic, port);
      mine.clear();
    });
    return methods;
  }

  private remove(topic: string, port: IpcPort): void {
    const ports = this.topics.get(topic);
    ports?.delete(port);
    if (ports?.size === 0) this.topics.delete(topic);
  }
}

type Handler = (payload: Uint8Array) => void;

/**
 * The {@link Broker} of a worker: publishes go to the primary's {@link BrokerHub}, which hands them to
 * every worker subscribed to the topic (this one included). One subscription per topic crosses the pipe
 * however many local handlers share it.
 */
export function createIpcBroker(port: IpcPort, rpc: RpcClient): Broker {
  const errors = new BrokerErrorListeners();
  const handlers = new Map<string, Set<Handler>>();
  let closed = false;

  port.onMessage((message) => {
    if (!isIpcMessage(message, 'broker.deliver')) return;
    const payload = message.payload as Uint8Array;
    // A copy of the set: a handler that unsubscribes must not change this delivery's round.
    for (const handler of [...(handlers.get(message.topic as string) ?? [])]) {
      try {
        handler(payload);
      } catch (error) {
        errors.report(BrokerErrorCode.HANDLER_FAILED, 'a broker message handler threw', error);
      }
    }
  });
  port.onClose(() => {
    if (!closed) errors.report(BrokerErrorCode.UNREACHABLE, 'the primary process is gone');
  });

  /** Per topic, the subscription on the primary: settles once it is active. */
  const active = new Map<string, Promise<unknown>>();
  const closedError = () => new BrokerError(BrokerErrorCode.CLOSED, 'the IPC broker is closed');

  return {
    async publish(topic, payload) {
      if (closed) throw closedError();
      // The view's own bytes only: structured clone would otherwise copy the whole underlying buffer.
      const bytes =
        payload.byteOffset === 0 && payload.byteLength === payload.buffer.byteLength
          ? payload
          : payload.slice();
      if (!port.send({ tag: IPC_TAG, kind: 'broker.publish', topic, payload: bytes })) {
        throw new BrokerError(BrokerErrorCode.UNREACHABLE, 'the primary process is gone');
      }
    },
    async subscribe(topic, handler) {
      if (closed) throw closedError();
      // A fresh function per subscription, so one handler subscribed twice is delivered twice.
      const entry: Handler = (payload) => handler(payload);
      const set = handlers.get(topic) ?? new Set<Handler>();
      if (!handlers.has(topic)) {
        handlers.set(topic, set);
        active.set(topic, rpc.call('broker.subscribe', [topic]));
      }
      set.add(entry);
      try {
        await active.get(topic);
      } catch (error) {
        set.delete(entry);
        if (set.size === 0) {
          handlers.delete(topic);
          active.delete(topic);
        }
        throw error;
      }
      return async () => {
        const current = handlers.get(topic);
        if (!current?.delete(entry) || current.size > 0) return;
        handlers.delete(topic);
        active.delete(topic);
        if (!closed) await rpc.call('broker.unsubscribe', [topic]);
      };
    },
    onError: (listener) => errors.add(listener),
    async close() {
      if (closed) return;
      closed = true;
      const topics = [...handlers.keys()];
      handlers.clear();
      active.clear();
      await Promise.allSettled(topics.map((topic) => rpc.call('broker.unsubscribe', [topic])));
    },
  };
}
