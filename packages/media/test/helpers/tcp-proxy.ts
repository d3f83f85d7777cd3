import net from 'node:net';

/** Where a {@link TcpProxy} forwards new connections. */
export interface ProxyTarget {
  host: string;
  port: number;
}

/**
 * A TCP proxy on 127.0.0.1 in front of a real server, to count what a client sends and to make the server
 * "go away" (every connection cut, new ones refused) or come back, without touching the server itself.
 */
export interface TcpProxy {
  /** Port the proxy listens on (stays the same across `cut` and `restore`). */
  readonly port: number;
  /** Bytes clients sent through the proxy since the last `resetCount`. */
  readonly bytesUp: number;
  resetCount(): void;
  /** Forwards new connections to another target (a restarted server on a new port). */
  retarget(target: ProxyTarget): void;
  /** The server goes away: open connections are reset and new ones are refused until `restore`. */
  cut(): Promise<void>;
  /** Accepts connections again. */
  restore(): Promise<void>;
  close(): Promise<void>;
}

export async function startTcpProxy(initial: ProxyTarget): Promise<TcpProxy> {
  let target = initial;
  let bytesUp = 0;
  let port = 0;
  const sockets = new Set<net.Socket>();
  const track = (socket: net.Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  };
  const server = net.createServer((client) => {
    const upstream = net.connect(target.port, target.host);
    track(client);
    track(upstream);
    client.on('data', (chunk: Buffer) => {
      bytesUp += chunk.byteLength;
    });
    client.pipe(upstream);
    upstream.pipe(client);
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.once('error', end).once('close', end);
    upstream.once('error', end).once('close', end);
  });
  const listen = () =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        port = (server.address() as net.AddressInfo).port;
        resolve();
      });
    });
  const stopListening = () =>
    new Promise<void>((resolve) => {
      if (!server.listening) return resolve();
      server.close(() => resolve());
    });
  const resetAll = () => {
    for (const socket of sockets) socket.resetAndDestroy();
    sockets.clear();
  };
  await listen();
  return {
    get port() {
      return port;
    },
    get bytesUp() {
      return bytesUp;
    },
    resetCount: () => {
      bytesUp = 0;
    },
    retarget: (next) => {
      target = next;
    },
    cut: async () => {
      const closed = stopListening();
      resetAll();
      await closed;
    },
    restore: listen,
    close: async () => {
      const closed = stopListening();
      resetAll();
      await closed;
    },
  };
}
