// An attacker in its own process, so its CPU does not slow the test process that measures other users.
// Usage: node flood.mjs <config JSON>. Config: { wsUrl, token, mode: 'read' | 'history' | 'connect',
// sockets, frames, channelId, durationMs, pause }. Prints one JSON line of counts when done.
import { Packr } from 'msgpackr';
import WebSocket from 'ws';

const config = JSON.parse(process.argv[2]);
const packr = new Packr({ useRecords: false });
const stats = { opened: 0, framesSent: 0, closes: {}, refused: {}, maxOpen: 0 };
let open = 0;
const deadline = Date.now() + config.durationMs;

function frameFor(i) {
  if (config.mode === 'history') return { t: 'history', rid: i, channelId: config.channelId, limit: 200 };
  return { t: 'read', rid: i, channelId: config.channelId, seq: 0 };
}

function openSocket(reconnect) {
  const url = new URL(config.wsUrl);
  url.searchParams.set('access_token', config.token);
  const ws = new WebSocket(url, 'natter.v1.msgpack');
  let counted = false;
  ws.on('unexpected-response', (_req, res) => {
    stats.refused[res.statusCode] = (stats.refused[res.statusCode] ?? 0) + 1;
    res.resume();
    done();
  });
  ws.on('error', () => done());
  ws.on('open', () => {
    counted = true;
    open += 1;
    stats.opened += 1;
    stats.maxOpen = Math.max(stats.maxOpen, open);
    // A client that never reads: its replies pile up in the server's queue.
    if (config.pause) ws._socket.pause();
    if (config.mode === 'connect') return;
    let sent = 0;
    const blast = () => {
      if (ws.readyState !== WebSocket.OPEN || Date.now() > deadline) return;
      for (let k = 0; k < 500 && sent < config.frames; k++, sent++) {
        ws.send(packr.pack(frameFor(sent + 1)));
        stats.framesSent += 1;
      }
      if (sent < config.frames) setImmediate(blast);
    };
    blast();
  });
  ws.on('close', (code) => {
    if (counted) {
      open -= 1;
      stats.closes[code] = (stats.closes[code] ?? 0) + 1;
    }
    done();
  });
  let finished = false;
  function done() {
    if (finished) return;
    finished = true;
    if (reconnect && Date.now() < deadline) setTimeout(() => openSocket(true), 20);
  }
  sockets.push(ws);
}

const sockets = [];
for (let i = 0; i < config.sockets; i++) openSocket(config.mode !== 'connect');
setTimeout(() => {
  process.stdout.write(`${JSON.stringify({ ...stats, openAtEnd: open })}\n`);
  for (const ws of sockets) ws.terminate();
  setTimeout(() => process.exit(0), 50);
}, config.durationMs);
