import { fork } from 'node:child_process';
import net from 'node:net';
import { fileURLToPath } from 'node:url';

/**
 * The machine's floor for message passing between processes: CPU of one loopback TCP request/response
 * (100 bytes each way) between two Node processes, at a given number of round trips per second, both
 * processes' CPU summed. A cross-node message costs its nodes several of these (PostgreSQL, the broker,
 * the sender's ack, the receiver's frame); at a low rate each one wakes an idle process, which on a
 * small virtual machine costs far more than the bytes (crossNode prints both rates next to natter's).
 *
 *   node bench/load/loopback-floor.mjs [ratePerSec] [count]   -> one JSON line
 */
const self = fileURLToPath(import.meta.url);

if (process.argv[2] === '--echo') {
  const server = net.createServer((socket) => socket.on('data', (data) => socket.write(data)));
  server.listen(0, '127.0.0.1', () => process.send({ port: server.address().port }));
  process.on('message', (m) => {
    if (m === 'cpu') {
      const cpu = process.cpuUsage();
      process.send({ cpuMicros: cpu.user + cpu.system });
    }
  });
} else if (import.meta.url === `file://${process.argv[1]}`) {
  const rate = Number(process.argv[2] ?? 50);
  const count = Number(process.argv[3] ?? 300);
  console.log(JSON.stringify(await loopbackFloor(rate, count)));
}

/** CPU µs per round trip at `rate` round trips/s over `count` of them (after 20 not counted). */
export async function loopbackFloor(rate, count) {
  const echo = fork(self, ['--echo'], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  try {
    const next = () => new Promise((resolve) => echo.once('message', resolve));
    const { port } = await next();
    const socket = net.connect(port, '127.0.0.1');
    socket.setNoDelay(true);
    await new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    const payload = Buffer.alloc(100, 120);
    const roundTrip = () =>
      new Promise((resolve) => {
        socket.once('data', resolve);
        socket.write(payload);
      });
    const gapMs = 1000 / rate;
    const warm = 20;
    let before;
    let echoBefore;
    const started = performance.now();
    for (let i = 0; i < warm + count; i++) {
      if (i === warm) {
        echo.send('cpu');
        echoBefore = (await next()).cpuMicros;
        before = process.cpuUsage();
      }
      const due = started + i * gapMs;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      await roundTrip();
    }
    const mine = process.cpuUsage(before);
    echo.send('cpu');
    const echoAfter = (await next()).cpuMicros;
    socket.destroy();
    const cpuMicros = mine.user + mine.system + echoAfter - echoBefore;
    return { ratePerSec: rate, roundTrips: count, cpuMicrosPerRoundTrip: Math.round(cpuMicros / count) };
  } finally {
    echo.kill();
  }
}
