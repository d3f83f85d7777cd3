import type { Server } from 'node:http';
import { type HttpBindings, serve } from '@hono/node-server';
import type { NatterServer } from '@natter/server-core';
import { Hono } from 'hono';
import { afterEach, describe, expect, it } from 'vitest';
import { baseUrlOf, expectNatterWorksBeside, startNatter } from './mounted.js';

/**
 * The documented Hono recipe (docs/frameworks.md), on `@hono/node-server`: a middleware registered first
 * hands natter's paths to `natter.fetch` before any handler reads the body, with the client's address for
 * login throttling.
 */
function appWithNatter(natter: NatterServer): Hono<{ Bindings: HttpBindings }> {
  const app = new Hono<{ Bindings: HttpBindings }>();
  app.use(async (c, next) => {
    if (!natter.handles(new URL(c.req.url).pathname)) return next();
    const clientIp = c.env.incoming.socket.remoteAddress;
    return natter.fetch(c.req.raw, clientIp ? { clientIp } : {});
  });
  app.post('/api/echo', async (c) => c.json({ echoed: await c.req.json() }));
  app.get('/about', (c) => c.text('the app'));
  return app;
}

function listen(app: Hono<{ Bindings: HttpBindings }>): Promise<Server> {
  return new Promise((resolve) => {
    const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () =>
      resolve(server as Server),
    );
  });
}

describe('Hono mount (@hono/node-server)', () => {
  let natter: NatterServer | undefined;
  let server: Server | undefined;
  afterEach(async () => {
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve) ?? resolve(undefined));
    await natter?.close();
  });

  it('serves the API beside Hono routes, with WebSocket upgrades on the node server', async () => {
    natter = await startNatter();
    server = await listen(appWithNatter(natter));
    natter.attach(server);
    await expectNatterWorksBeside(baseUrlOf(server), '/api/echo');
    expect(await (await fetch(`${baseUrlOf(server)}/about`)).text()).toBe('the app');
  });
});
