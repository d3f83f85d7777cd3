/**
 * A logged-out token on a 3-node cluster (child processes over the shared store and a Redis broker): every
 * node must refuse it within the revocation cache bound, though the node that served the logout is another.
 */
import { afterAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { type ChildNode, startChildNode } from '../cluster/helpers/child-nodes.js';
import { clusterShape, specFor } from '../cluster/helpers/cluster.js';
import { servicesUp } from '../cluster/helpers/env.js';
import { clusterSuite } from '../cluster/helpers/suite.js';
import { api, signup } from '../helpers/server.js';

/** The default `tokens.revocationCacheMs`, plus a second for the polling and a loaded machine. */
const REFUSED_WITHIN_MS = 2_000 + 1_000;

const store = await clusterSuite('abuse-revocation');
const up = await servicesUp('revocation across a 3-node cluster', ['redis']);

function upgrade(node: ChildNode, token: string): Promise<number> {
  return new Promise((resolve) => {
    const url = new URL(`ws://127.0.0.1:${node.port}/v1/ws`);
    url.searchParams.set('access_token', token);
    const ws = new WebSocket(url);
    ws.on('unexpected-response', (_req, res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    ws.on('open', () => {
      resolve(101);
      ws.close();
    });
    ws.on('error', () => resolve(0));
  });
}

describe.skipIf(!up)('session revocation on a 3-node cluster', () => {
  let nodes: ChildNode[] = [];
  afterAll(async () => {
    await Promise.allSettled(nodes.map((n) => n.stop()));
  });

  it('a token logged out on one node is refused by the other nodes within the bound', async () => {
    const shape = clusterShape({ broker: 'redis' });
    nodes = await Promise.all([0, 1, 2].map((i) => startChildNode(specFor(shape, i), store.spec)));
    const [a, b, c] = nodes as [ChildNode, ChildNode, ChildNode];
    const alice = await signup(a.url);
    // Both other nodes have seen the token as valid (their caches hold "not revoked").
    expect(await upgrade(b, alice.accessToken)).toBe(101);
    expect(await upgrade(c, alice.accessToken)).toBe(101);
    expect((await api(b.url, alice, 'GET', '/v1/me')).status).toBe(200);
    const loggedOutAt = Date.now();
    expect((await api(a.url, alice, 'POST', '/v1/auth/logout', {})).status).toBe(204);
    const refusedAfter = async (node: ChildNode): Promise<number> => {
      for (;;) {
        const status = await upgrade(node, alice.accessToken);
        if (status === 401) return Date.now() - loggedOutAt;
        if (Date.now() - loggedOutAt > 10_000) return Number.POSITIVE_INFINITY;
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    const [onB, onC] = await Promise.all([refusedAfter(b), refusedAfter(c)]);
    expect((await api(b.url, alice, 'GET', '/v1/me')).status).toBe(401);
    console.info(
      `[abuse] revocation: a token logged out on node A was refused by node B after ${(onB / 1000).toFixed(2)} s and by node C after ${(onC / 1000).toFixed(2)} s (bound ${REFUSED_WITHIN_MS / 1000} s; store ${store.spec.kind})`,
    );
    expect(onB).toBeLessThanOrEqual(REFUSED_WITHIN_MS);
    expect(onC).toBeLessThanOrEqual(REFUSED_WITHIN_MS);
  }, 60_000);
});
