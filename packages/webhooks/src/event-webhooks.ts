import type { NatterEvent } from '@natter/protocol';
import type { EventContext, EventPage, EventSink } from '@natter/server-core';
import { Dispatcher } from './dispatcher.js';
import type { EventStore } from './event-store.js';
import { type EventWebhooksOptions, endpointsFor, resolveWebhookOptions } from './options.js';
import { createSqliteEventStore } from './sqlite-store.js';

/** How long `stop()` waits for requests in flight before closing the store (they stay owed). */
const STOP_WAIT_MS = 5_000;

/** The sink `createEventWebhooks` builds: server-core's port plus a few operational extras. */
export interface EventWebhooks extends EventSink {
  list(after: string | undefined, limit: number): Promise<EventPage>;
  /** Works the queue now until nothing is due, waiting for every request. Handy in tests and scripts. */
  flush(): Promise<void>;
  /** Events in the log and undelivered events per endpoint. */
  stats(): Promise<{ events: number; pending: Record<string, number> }>;
}

/**
 * Event webhooks for app backends, as an `events` factory for `createNatterServer`:
 * ```ts
 * createNatterServer({ storage, tokens, events: createEventWebhooks({ dataPath: './data/events.db',
 *   endpoints: [{ name: 'backend', url: 'https://app.example.com/natter-events', secret }] }) });
 * ```
 * Every event (message created, edited, deleted; member added, removed; channel created; user reported) is
 * recorded durably right after its commit and POSTed to each endpoint that wants it as JSON, signed like
 * push's webhook (`X-Natter-Signature`). Delivery is at-least-once: retried with backoff while the endpoint
 * times out, errs or is down (3 days by default), so receivers dedupe by the event's `id`; the log stays
 * replayable for 7 days through `GET /v1/server/events`. See docs/server-api.md.
 */
export function createEventWebhooks(options: EventWebhooksOptions): (context: EventContext) => EventWebhooks {
  const resolved = resolveWebhookOptions(options);
  return (context) => {
    const store: EventStore = options.store ?? createSqliteEventStore({ path: options.dataPath! });
    const { logger, metrics } = context;
    let dispatcher: Dispatcher | undefined;
    let timer: ReturnType<typeof setInterval> | undefined;
    let running: Promise<void> = Promise.resolve();
    let passQueued = false;
    let opened = false;
    /** Appends not yet settled: an asynchronous store (PostgreSQL) records after `publish` returns. */
    const appending = new Set<Promise<void>>();

    /** Passes never overlap: each starts after the previous one ended. Resolves with how many it started. */
    const pass = (): Promise<number> => {
      const next = running.then(async () => {
        try {
          return (await dispatcher?.pass()) ?? 0;
        } catch (err) {
          metrics.errors.inc({ code: 'webhook_worker_failed' });
          logger.warn({ err }, 'webhook worker pass failed');
          return 0;
        }
      });
      running = next.then(() => undefined);
      return next;
    };
    const tick = () => {
      if (passQueued) return;
      passQueued = true;
      void pass().finally(() => {
        passQueued = false;
      });
    };
    const endpointsOf = (event: NatterEvent) => endpointsFor(resolved.endpoints, event.type);

    return {
      publish(events) {
        if (!opened) {
          metrics.errors.inc({ code: 'webhook_not_running' });
          logger.warn({ count: events.length }, 'event webhooks not started: events not recorded');
          return;
        }
        // The SQLite store writes synchronously inside the call: durable before the commit hook returns.
        const appended = store.append(events, endpointsOf, resolved.now()).then(tick, (err: unknown) => {
          metrics.errors.inc({ code: 'webhook_publish_failed' });
          logger.error({ err, count: events.length }, 'events not recorded');
        });
        appending.add(appended);
        void appended.finally(() => appending.delete(appended));
      },
      list: (after, limit) => store.list(after, limit),
      async flush() {
        await Promise.all(appending);
        // Passes take at most `concurrency` per endpoint: go on until a pass finds nothing due.
        for (let round = 0; round < 10_000; round++) {
          const started = await pass();
          await dispatcher?.settle();
          if (started === 0) return;
        }
      },
      stats: () => store.counts(),
      async start() {
        if (opened) return;
        await store.open();
        opened = true;
        dispatcher = new Dispatcher(store, context, resolved);
        timer = setInterval(tick, resolved.workerIntervalMs);
        timer.unref?.();
        tick(); // what was owed before a restart goes out now
      },
      async stop() {
        if (timer) clearInterval(timer);
        timer = undefined;
        opened = false;
        await Promise.all(appending);
        let waited: ReturnType<typeof setTimeout> | undefined;
        await Promise.race([
          running.then(() => dispatcher?.settle()),
          new Promise<void>((resolve) => {
            waited = setTimeout(resolve, STOP_WAIT_MS);
          }),
        ]);
        clearTimeout(waited);
        dispatcher = undefined;
        await store.close();
      },
    };
  };
}
