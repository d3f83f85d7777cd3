import { createServer } from 'node:http';
import { DEFAULT_LIMITS, msgpackCodec, SUBPROTOCOL_MSGPACK } from '@natter/protocol';
import { WebSocketServer } from 'ws';
import { dieOnError, processStats, serve } from '../lib/ipc.mjs';
import { MemoryChat } from './memory-chat.mjs';
import { stampedText } from './setup-plan.mjs';

/**
 * The transport's limit: a bare `ws` server speaking natter's msgpack frames with the least work that
 * still produces the same frames: token lookup at the handshake, membership from a Map, a `send`
 * becomes an `ack` to the sender and a `msg` (with the member's own position) to every other socket
 * of the channel's members. No validation library, no storage, no metrics.
 */
dieOnError();
const chat = new MemoryChat();
const sockets = new Map(); // userId -> Set<WebSocket>
const codec = msgpackCodec;
const http = createServer((_req, res) => res.writeHead(404).end());
const wss = new WebSocketServer({
  noServer: true,
  perMessageDeflate: false,
  maxPayload: DEFAULT_LIMITS.maxFrameBytes,
  handleProtocols: (offered) => (offered.has(SUBPROTOCOL_MSGPACK) ? SUBPROTOCOL_MSGPACK : false),
});
let sessions = 0;

const sendFrame = (ws, frame) => ws.send(codec.encode(frame), { binary: true });

http.on('upgrade', (req, socket, head) => {
  const token = new URL(req.url, 'http://localhost').searchParams.get('access_token');
  const userId = token && chat.tokens.get(token);
  if (!userId) {
    socket.end('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    return;
  }
  wss.handleUpgrade(req, socket, head, (ws) => onConnection(ws, userId));
});

function onConnection(ws, userId) {
  const own = sockets.get(userId) ?? new Set();
  sockets.set(userId, own);
  own.add(ws);
  sessions++;
  sendFrame(ws, {
    t: 'hello',
    protocol: 1,
    userId,
    deviceId: 'dev',
    sessionId: `s${sessions}`,
    epoch: 'relay',
    head: chat.heads.get(userId) ?? 0,
    limits: DEFAULT_LIMITS,
    serverTime: Date.now(),
  });
  ws.on('message', (data, isBinary) => onFrame(ws, userId, codec.decode(data, isBinary)));
  ws.on('close', () => {
    own.delete(ws);
    sessions--;
  });
}

function onFrame(ws, userId, frame) {
  if (frame.t === 'send') {
    const appended = chat.append(userId, frame.channelId, frame.clientMsgId, frame.text);
    if (!appended) {
      sendFrame(ws, { t: 'error', rid: frame.rid, code: 'NATTER_NOT_FOUND', message: 'channel not found' });
      return;
    }
    for (const { userId: member, entry } of appended.positions) {
      if (member === userId) sendFrame(ws, { t: 'ack', rid: frame.rid, entry, duplicate: false });
      const targets = sockets.get(member);
      if (!targets) continue;
      for (const target of targets) if (target !== ws) sendFrame(target, { t: 'msg', entry });
    }
  } else if (frame.t === 'sync') {
    const log = chat.logs?.get(userId) ?? [];
    const limit = Math.min(frame.limit ?? DEFAULT_LIMITS.maxSyncPage, DEFAULT_LIMITS.maxSyncPage);
    const entries = log.slice(frame.after, frame.after + limit); // positions are 1..n, so index = pos - 1
    const head = chat.heads.get(userId) ?? 0;
    const last = entries.at(-1)?.pos ?? frame.after;
    sendFrame(ws, { t: 'sync.page', rid: frame.rid, epoch: 'relay', entries, head, hasMore: last < head });
  } else if (frame.t === 'ping') {
    sendFrame(ws, { t: 'pong', rid: frame.rid, serverTime: Date.now() });
  }
}

async function setup({ plan }) {
  if (plan.preload) chat.logs = new Map();
  const result = chat.setup(plan);
  // The catch-up backlog: user 1 wrote to user 0 while user 0 was away.
  for (let i = 0; i < (plan.preload?.messages ?? 0); i++)
    chat.append(result.users[1].id, result.direct[0], `pre${i}`, stampedText(0));
  await new Promise((resolve) => http.listen(0, '127.0.0.1', resolve));
  return { ports: [http.address().port], ...result };
}

serve({ setup, stats: ({ collect }) => ({ ...processStats({ collect }), connections: sessions }) });
