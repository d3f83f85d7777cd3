import type { Server } from 'node:http';
import type { NatterServer } from '@natter/server-core';
import express from 'express';
import { afterEach, describe, expect, it } from 'vitest';
import { baseUrlOf, expectNatterWorksBeside, startNatter } from './mounted.js';

/** An Express app with a JSON body parser and a route of its own, as apps have them. */
function appWithBodyParser(): express.Express {
  const app = express();
  app.use(express.json());
  app.post('/api/echo', (req, res) => {
    res.json({ echoed: req.body });
  });
  return app;
}

function listen(app: express.Express): Promise<Server> {
  return new Promise((resolve) => {
    const server = app.listen(0, '127.0.0.1', () => resolve(server));
  });
}

describe('Express mount', () => {
  let natter: NatterServer | undefined;
  let server: Server | undefined;
  afterEach(async () => {
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve) ?? resolve(undefined));
    await natter?.close();
  });

  it('serves the API after express.json(), beside app routes, with WebSocket upgrades on the same server', async () => {
    natter = await startNatter();
    const app = appWithBodyParser();
    app.use(natter.middleware);
    server = await listen(app);
    natter.attach(server);
    await expectNatterWorksBeside(baseUrlOf(server), '/api/echo');
  });

  it('works mounted on its own paths, where Express strips the mount path from req.url', async () => {
    natter = await startNatter();
    const app = appWithBodyParser();
    app.use(['/v1', '/healthz', '/metrics'], natter.middleware);
    server = await listen(app);
    natter.attach(server);
    await expectNatterWorksBeside(baseUrlOf(server), '/api/echo');
  });

  it('hands requests for other paths on to the app', async () => {
    natter = await startNatter();
    const app = express();
    app.use(natter.middleware);
    app.get('/about', (_req, res) => {
      res.send('the app');
    });
    server = await listen(app);
    const res = await fetch(`${baseUrlOf(server)}/about`);
    expect(await res.text()).toBe('the app');
  });
});
