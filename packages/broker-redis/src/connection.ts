import { Redis, type RedisOptions } from 'ioredis';

/** How an adapter reaches Redis: its own connection from a URL, or a client the application shares. */
export interface RedisConnectionOptions {
  /**
   * `redis://[[user]:password@]host[:port][/db]` (or `rediss://` for TLS) of the connection the adapter
   * opens and owns.
   * @default 'redis://127.0.0.1:6379'
   */
  url?: string;
  /** Extra ioredis options for the connections the adapter opens (TLS, username, sentinels...). */
  redisOptions?: RedisOptions;
  /**
   * How long a command may wait for an answer, including time queued while reconnecting, before it
   * rejects, ms. Bounds every call during an outage.
   * @default 2000
   */
  commandTimeoutMs?: number;
}

/** Reconnect delay: exponential from 50 ms to 2 s, full jitter so nodes do not reconnect in lockstep. */
export const reconnectDelay = (attempt: number) =>
  Math.round(Math.random() * Math.min(2_000, 50 * 2 ** Math.min(attempt, 10))) + 10;

/** Opens a connection for one role (`publisher`, `subscriber`, ...). */
export function openRedis(options: RedisConnectionOptions, role: string, extra: RedisOptions = {}): Redis {
  return new Redis(options.url ?? 'redis://127.0.0.1:6379', {
    retryStrategy: reconnectDelay,
    // Commands wait in the offline queue while reconnecting, bounded by commandTimeout instead of a
    // retry count, so no call hangs and none fails merely because the first attempt hit a blip.
    maxRetriesPerRequest: null,
    commandTimeout: options.commandTimeoutMs ?? 2_000,
    connectionName: `natter-${role}`,
    ...options.redisOptions,
    ...extra,
  });
}

/** Closes a connection: a polite QUIT when connected, else (or when QUIT stalls) a hard disconnect. */
export async function closeRedis(client: Redis): Promise<void> {
  if (client.status === 'end') return;
  if (client.status === 'ready') {
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      client.quit().catch(() => undefined),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, 1_000);
      }),
    ]);
    clearTimeout(timer);
  }
  client.disconnect(false);
}

/** Resolves once `client` is ready; rejects after `timeoutMs` or when it ends. */
export function whenReady(client: Redis, timeoutMs: number): Promise<void> {
  if (client.status === 'ready') return Promise.resolve();
  return new Promise((resolve, reject) => {
    const done = (error?: Error) => {
      clearTimeout(timer);
      client.off('ready', onReady);
      client.off('end', onEnd);
      if (error) reject(error);
      else resolve();
    };
    const onReady = () => done();
    const onEnd = () => done(new Error('connection ended before it was ready'));
    const timer = setTimeout(() => done(new Error(`not ready within ${timeoutMs} ms`)), timeoutMs);
    client.on('ready', onReady);
    client.on('end', onEnd);
  });
}
