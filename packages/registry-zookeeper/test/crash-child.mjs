// Registers a node in ZooKeeper, says so, then waits to be killed (SIGKILL: no session close).
import zookeeper from 'node-zookeeper-client';

const [connectionString, basePath, nodeId] = process.argv.slice(2);
const client = zookeeper.createClient(connectionString, { sessionTimeout: 4000 });
client.once('connected', () => {
  client.mkdirp(basePath, () => {
    const info = { id: nodeId, wsUrl: 'ws://127.0.0.1:9/v1/ws', region: 'r', capacity: 1, load: 0 };
    client.create(
      `${basePath}/${nodeId}`,
      Buffer.from(JSON.stringify(info)),
      zookeeper.CreateMode.EPHEMERAL,
      (err) => {
        process.stdout.write(err ? `error ${err}\n` : 'registered\n');
      },
    );
  });
});
client.connect();
setTimeout(() => process.exit(2), 30_000).unref();
setInterval(() => {}, 1000);
