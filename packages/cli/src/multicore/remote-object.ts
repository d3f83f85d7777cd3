import type { RpcClient } from './rpc.js';

/** Path segments that must never be followed when a call names a method by path. */
const FORBIDDEN = new Set(['__proto__', 'prototype', 'constructor']);

/**
 * The method `path` (`accounts.getUser`, `lifecycle.getMessage`) of `root`, bound to its object;
 * undefined when the path does not lead to a function.
 */
export function methodAt(root: object, path: string): ((...args: unknown[]) => unknown) | undefined {
  const names = path.split('.');
  let target: unknown = root;
  for (const name of names.slice(0, -1)) {
    if (FORBIDDEN.has(name) || typeof target !== 'object' || target === null) return undefined;
    target = (target as Record<string, unknown>)[name];
  }
  const last = names[names.length - 1]!;
  if (FORBIDDEN.has(last) || typeof target !== 'object' || target === null) return undefined;
  const fn = (target as Record<string, unknown>)[last];
  return typeof fn === 'function' ? (fn as (...args: unknown[]) => unknown).bind(target) : undefined;
}

/**
 * An object whose every method is a call of `prefix.method` through `rpc`: the worker-side face of an
 * interface the primary implements (accounts, presence, registry). `then` stays undefined, so awaiting the
 * object does not call anything.
 */
export function remoteObject<T extends object>(rpc: RpcClient, prefix: string): T {
  return new Proxy({} as T, {
    get(_target, name) {
      if (typeof name !== 'string' || name === 'then' || FORBIDDEN.has(name)) return undefined;
      return (...args: unknown[]) => rpc.call(`${prefix}.${name}`, args);
    },
  });
}
