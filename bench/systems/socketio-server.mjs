import { createServer } from 'node:http';
import { Server } from 'socket.io';
import { dieOnError, processStats, serve } from '../lib/ipc.mjs';
import { MemoryChat } from './memory-chat.mjs';
import { stampedText } from './setup-plan.mjs';

/**
 * Socket.IO 4 doing natter's chat work the way its docs recommend: websocket transport only, a token
 * checked in an `io.use` middleware, each user in a room named after them (the "private messaging"
 * guide: `socket.to(peer).to(self).emit`, so the sender's other devices see the message too), groups as
 * rooms, acks through the emit callback. No persistence: Socket.IO has none. The catch-up scenario uses
 * its connection state recovery, the in-memory replay it offers instead.
 */
dieOnError();
const chat = new MemoryChat();
const http = createServer();
let io;
let sessions = 0;

function start(recovery) {
  io = new Server(http, {
    transports: ['websocket'],
    serveClient: false,
    ...(recovery ? { connectionStateRecovery: { maxDisconnectionDuration: 120_000 } } : {}),
  });
  io.use((socket, next) => {
    const userId = chat.tokens.get(socket.handshake.auth?.token);
    if (!userId) return next(new Error('unauthorized'));
    socket.data.userId = userId;
    next();
  });
  io.on('connection', (socket) => {
    const { userId } = socket.data;
    sessions++;
    if (!socket.recovered) {
      socket.join(`user:${userId}`);
      for (const [channelId, members] of chat.members)
        if (channelId.startsWith('g') && members.includes(userId)) socket.join(channelId);
    }
    socket.on('send', (frame, ack) => {
      const appended = chat.append(userId, frame?.channelId, frame?.clientMsgId, frame?.text);
      if (typeof ack !== 'function') return;
      if (!appended) return ack({ error: 'channel not found' });
      const { message, positions } = appended;
      ack({ entry: positions.find((p) => p.userId === userId).entry });
      if (message.channelId.startsWith('g')) socket.to(message.channelId).emit('msg', message);
      else {
        const peer = positions.find((p) => p.userId !== userId).userId;
        socket.to(`user:${peer}`).to(`user:${userId}`).emit('msg', message);
      }
    });
    socket.on('disconnect', () => sessions--);
  });
}

async function setup({ plan }) {
  start(Boolean(plan.preload));
  const result = chat.setup(plan);
  await new Promise((resolve) => http.listen(0, '127.0.0.1', resolve));
  return { ports: [http.address().port], ...result };
}

/** Broadcasts `count` messages to a user's room: with recovery on, each is kept for replay. */
function emitTo({ userIndex, fromIndex, count }) {
  const to = `u${userIndex}`;
  const from = `u${fromIndex}`;
  for (let i = 0; i < count; i++) {
    const appended = chat.append(from, 'd0', `pre${i}`, stampedText(0));
    io.to(`user:${to}`).emit('msg', appended.message);
  }
  return { emitted: count };
}

serve({ setup, emitTo, stats: ({ collect }) => ({ ...processStats({ collect }), connections: sessions }) });
