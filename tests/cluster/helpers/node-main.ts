/**
 * Entry point of a chat node run as a child process (bundled by child-nodes.ts). Reads its spec from
 * NATTER_NODE_SPEC, prints one JSON line `{"ready":...}` when listening, and exits when its parent goes
 * away (stdin closes), so no node outlives the test that started it.
 */
import { createPostgresStorage } from 'natter-test:postgres';
import { createShardedPostgresStorage } from 'natter-test:postgres-sharded';
import { createNode, type NodeSpec, openResources } from './node-spec.js';
import { openStore, type StoreSpec } from './storage.js';

interface ChildSpec extends NodeSpec {
  port: number;
  store: StoreSpec;
}

const spec = JSON.parse(process.env.NATTER_NODE_SPEC ?? '{}') as ChildSpec;
const events = new Map<string, number>();
const resources = openResources(spec, events);
const server = createNode(
  spec,
  openStore(spec.store, { postgres: createPostgresStorage, sharded: createShardedPostgresStorage }),
  resources,
);

async function main() {
  await resources.broker.ready(10_000);
  const { port } = await server.listen(spec.port);
  process.stdout.write(`${JSON.stringify({ ready: true, port, nodeId: server.nodeId })}\n`);
}

let stopping = false;
async function stop(code: number) {
  if (stopping) return;
  stopping = true;
  const timer = setTimeout(() => process.exit(code), 3_000);
  timer.unref();
  await server.close().catch(() => undefined);
  await resources.close();
  process.exit(code);
}

process.stdin.on('end', () => void stop(0));
process.stdin.on('close', () => void stop(0));
process.stdin.resume();
process.on('SIGTERM', () => void stop(0));
// `drain` on stdin-less signalling: SIGUSR2 drains, for tests that drain a child node.
process.on('SIGUSR2', () => void server.drain());

main().catch((err: unknown) => {
  process.stderr.write(`node ${spec.nodeId} failed to start: ${String(err)}\n`);
  process.exit(1);
});
