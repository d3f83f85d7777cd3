import SwaggerParser from '@apidevtools/swagger-parser';
import { ErrorCode, NatterError, ROUTES, type RouteSpec } from '@natter/protocol';
import { createMemoryStorage } from '@natter/storage-memory';
import { afterAll, describe, expect, it } from 'vitest';
import { internalsOf } from '../src/internals.js';
import { silentLogger } from '../src/observability/logger.js';
import { createMetrics } from '../src/observability/metrics.js';
import type { MediaPlug } from '../src/ports/media.js';
import type { PushGateway } from '../src/ports/push.js';
import { createNatterServer } from '../src/server.js';

/** A push gateway that does nothing: mounts the push routes so every route of the table is served. */
const idlePush = (): PushGateway => ({
  onDeliveries() {},
  async registerSubscription() {},
  async removeSubscriptions() {},
  async setMuted() {},
  vapidPublicKey: () => 'key',
  async start() {},
  async stop() {},
});

/** Media that has no uploads: mounts the media routes (404 for every id). */
const idleMedia = (): MediaPlug => {
  const none = async (): Promise<never> => {
    throw new NatterError(ErrorCode.NOT_FOUND, 'media not found');
  };
  return {
    upload: none,
    download: none,
    signUrl: none,
    verifySignedUrl: () => false,
    claim: none,
    releaseMessage: async () => undefined,
    tusPath: undefined,
    tus: none,
    async start() {},
    async stop() {},
  };
};

describe('the HTTP API and its OpenAPI document', () => {
  const server = createNatterServer({
    storage: createMemoryStorage(),
    tokens: { secret: 'openapi-test-secret-openapi-test-secret!' },
    push: idlePush,
    media: idleMedia,
    // With a key, the server API's routes are mounted too.
    serverApi: { keys: [{ name: 'test', key: 'openapi-test-key-openapi-test-key-0123', scopes: '*' }] },
    logger: silentLogger(),
    metrics: createMetrics({ defaults: false }),
  });
  afterAll(() => server.close());

  it('serves every route of the protocol table, and no other', () => {
    expect(internalsOf(server).api.routes().sort()).toEqual(Object.keys(ROUTES).sort());
  });

  it('serves a valid OpenAPI 3.1 document at /v1/openapi.json that documents exactly those routes', async () => {
    await server.start();
    const response = await server.fetch(new Request('http://api.test/v1/openapi.json'));
    expect(response.status).toBe(200);
    const document = (await response.json()) as {
      openapi: string;
      paths: Record<string, Record<string, { operationId: string }>>;
    };
    expect(document.openapi).toBe('3.1.0');
    // Validates against the OpenAPI 3.1 schema and resolves every $ref.
    await SwaggerParser.validate(structuredClone(document) as never);
    const documented = Object.entries(document.paths).flatMap(([path, methods]) =>
      Object.entries(methods).map(([method, op]) => `${method.toUpperCase()} ${path} ${op.operationId}`),
    );
    const routed = Object.entries(ROUTES as Record<string, RouteSpec>).map(
      ([name, route]) => `${route.method} ${route.path} ${name}`,
    );
    expect(documented.sort()).toEqual(routed.sort());
  });

  it('answers each documented route with something other than "no such endpoint"', async () => {
    for (const route of Object.values(ROUTES as Record<string, RouteSpec>)) {
      const path = route.path.replace(/\{[a-zA-Z]+\}/g, 'x_1');
      const response = await server.fetch(new Request(`http://api.test${path}`, { method: route.method }));
      const body =
        response.status === 204 ? undefined : ((await response.json()) as { error?: { message: string } });
      expect(body?.error?.message, `${route.method} ${route.path}`).not.toBe('no such endpoint');
    }
  });
});
