import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/** The Prometheus metrics of one natter server instance (its own registry, so two instances never clash). */
export interface NatterMetrics {
  readonly registry: Registry;
  /** Open WebSocket connections. */
  readonly connections: Gauge;
  /** Messages accepted from clients (acked sends, retries excluded). */
  readonly messagesIn: Counter;
  /** Sync entries pushed live to connections. */
  readonly messagesOut: Counter;
  /** Store write latency (one group-commit wait as seen by a caller), seconds. */
  readonly storeWriteSeconds: Histogram;
  /** Errors answered, by natter error code (and close code for closes). */
  readonly errors: Counter<'code'>;
}

/** Creates the metrics; `defaults` adds process metrics (CPU, memory, event loop lag). */
export function createMetrics(options: { defaults?: boolean; prefix?: string } = {}): NatterMetrics {
  const registry = new Registry();
  const prefix = options.prefix ?? 'natter_';
  if (options.defaults ?? true) collectDefaultMetrics({ register: registry, prefix });
  return {
    registry,
    connections: new Gauge({
      name: `${prefix}connections`,
      help: 'Open WebSocket connections',
      registers: [registry],
    }),
    messagesIn: new Counter({
      name: `${prefix}messages_in_total`,
      help: 'Messages accepted from clients',
      registers: [registry],
    }),
    messagesOut: new Counter({
      name: `${prefix}messages_out_total`,
      help: 'Sync entries pushed live',
      registers: [registry],
    }),
    storeWriteSeconds: new Histogram({
      name: `${prefix}store_write_seconds`,
      help: 'Store write latency including group-commit wait',
      buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers: [registry],
    }),
    errors: new Counter({
      name: `${prefix}errors_total`,
      help: 'Errors by code',
      labelNames: ['code'],
      registers: [registry],
    }),
  };
}
