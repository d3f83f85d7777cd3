import { msgpackCodec, SUBPROTOCOL_MSGPACK } from '@natter/protocol';
import { io } from 'socket.io-client';
import WebSocket from 'ws';

/**
 * The two client kinds the load speaks: natter's msgpack frames (used against natter and the bare ws
 * relay, which answers the same frames) and socket.io-client. Both expose the same small surface:
 *   send(channelId, clientMsgId, text, onAck), onMessage(text), close().
 */

const codec = msgpackCodec;

/** natter frames over `ws`: resolves once the server's `hello` arrives (the connection is authenticated). */
export function connectFrames(port, user, timeoutMs = 30_000) {
  return new Promise((resolve, reject) => {
    const url = `ws://127.0.0.1:${port}/v1/ws?access_token=${encodeURIComponent(user.token)}`;
    const socket = new WebSocket(url, SUBPROTOCOL_MSGPACK, { perMessageDeflate: false });
    const pending = new Map(); // rid -> callback
    let nextRid = 1;
    const timer = setTimeout(() => {
      socket.terminate();
      reject(new Error('handshake timed out'));
    }, timeoutMs);
    const client = {
      hello: undefined,
      onMessage: () => {},
      send(channelId, clientMsgId, text, onAck) {
        const rid = nextRid++;
        pending.set(rid, onAck);
        socket.send(codec.encode({ t: 'send', rid, channelId, clientMsgId, text }), { binary: true });
      },
      request(frame) {
        return new Promise((res) => {
          const rid = nextRid++;
          pending.set(rid, res);
          socket.send(codec.encode({ ...frame, rid }), { binary: true });
        });
      },
      close: () => socket.terminate(),
    };
    socket.on('message', (data, isBinary) => {
      const frame = codec.decode(data, isBinary);
      if (frame.t === 'msg') client.onMessage(frame.entry.message.text);
      else if (frame.rid !== undefined) {
        const callback = pending.get(frame.rid);
        pending.delete(frame.rid);
        callback?.(frame);
      } else if (frame.t === 'hello') {
        clearTimeout(timer);
        client.hello = frame;
        resolve(client);
      }
    });
    socket.on('unexpected-response', (_req, res) => {
      clearTimeout(timer);
      reject(new Error(`HTTP ${res.statusCode}`));
    });
    socket.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

/** socket.io-client, websocket transport only; resolves on `connect` (after the auth middleware passed). */
export function connectSocketIo(port, user, { timeoutMs = 30_000 } = {}) {
  return new Promise((resolve, reject) => {
    const socket = io(`http://127.0.0.1:${port}`, {
      transports: ['websocket'],
      auth: { token: user.token },
      reconnection: false,
      forceNew: true,
      timeout: timeoutMs,
    });
    const client = {
      socket,
      onMessage: () => {},
      send(channelId, clientMsgId, text, onAck) {
        socket.emit('send', { channelId, clientMsgId, text }, onAck);
      },
      close: () => socket.disconnect(),
    };
    socket.on('msg', (message) => client.onMessage(message.text));
    socket.once('connect', () => resolve(client));
    socket.once('connect_error', (err) => reject(err));
  });
}

export const connectors = { frames: connectFrames, socketio: connectSocketIo };
