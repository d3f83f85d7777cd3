import type { NatterServer } from '@natter/server-core';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { baseUrlOf, expectNatterWorksBeside, startNatter } from './mounted.js';

/**
 * The documented Fastify recipe (docs/frameworks.md): an `onRequest` hook hands natter's paths over before
 * Fastify parses the body, and `reply.hijack()` tells Fastify the response is taken care of.
 */
function mountNatter(app: FastifyInstance, natter: NatterServer): void {
  app.addHook('onRequest', (request, reply, done) => {
    if (!natter.handles(request.raw)) return done();
    reply.hijack();
    natter.requestListener(request.raw, reply.raw);
  });
}

describe('Fastify mount', () => {
  let natter: NatterServer | undefined;
  let app: FastifyInstance | undefined;
  afterEach(async () => {
    await app?.close();
    await natter?.close();
  });

  it('serves the API beside Fastify routes, with WebSocket upgrades on fastify.server', async () => {
    natter = await startNatter();
    app = Fastify();
    app.post('/api/echo', async (request) => ({ echoed: request.body }));
    mountNatter(app, natter);
    await app.listen({ port: 0, host: '127.0.0.1' });
    natter.attach(app.server);
    await expectNatterWorksBeside(baseUrlOf(app.server), '/api/echo');
  });

  it('leaves other paths to Fastify, including its 404', async () => {
    natter = await startNatter();
    app = Fastify();
    mountNatter(app, natter);
    app.get('/about', async () => 'the app');
    await app.listen({ port: 0, host: '127.0.0.1' });
    expect(await (await fetch(`${baseUrlOf(app.server)}/about`)).text()).toBe('the app');
    const missing = await fetch(`${baseUrlOf(app.server)}/nowhere`);
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { message: string }).message).toContain('not found');
  });
});
