import type { NodeParts } from './server/wiring.js';

const registry = new WeakMap<object, NodeParts>();

/** Remembers a server's parts for {@link internalsOf} (kept out of the public object on purpose). */
export function registerInternals(server: object, parts: NodeParts): void {
  registry.set(server, parts);
}

/**
 * The engine parts behind a server made by `createNatterServer`: chat and account services, hub,
 * presence, config, token service and storage. For tests, benchmarks and tools that drive the engine
 * directly; not a stable API (it follows the engine's internals from release to release).
 */
export function internalsOf(server: object): NodeParts {
  const parts = registry.get(server);
  if (!parts) throw new TypeError('not a server made by createNatterServer');
  return parts;
}
