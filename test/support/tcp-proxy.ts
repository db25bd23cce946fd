import net from 'node:net';

export interface TcpProxy {
  port: number;
  /** sessions open right now, and the most ever open at once */
  active: number;
  maxActive: number;
  sessions: number;
  /** delay per 16 KiB chunk sent to the client, to make a cycle slow */
  delayMs: number;
  close(): Promise<void>;
  /**
   * Stops like a server shutting down: refuses new connections, stops passing what clients send,
   * still passes the answers to what the server already received for `drainMs`, then cuts every
   * session.
   */
  stop(drainMs: number): Promise<void>;
  /** Listens again on the same port. */
  resume(): Promise<void>;
}

/** A loopback TCP proxy in front of a real server that counts and can slow its sessions. */
export async function startProxy(targetPort: number, delayMs = 0): Promise<TcpProxy> {
  const sockets = new Set<net.Socket>();
  const sessions = new Set<{ client: net.Socket; upstream: net.Socket }>();
  const proxy: TcpProxy = {
    port: 0,
    active: 0,
    maxActive: 0,
    sessions: 0,
    delayMs,
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
    async stop(drainMs) {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const { client, upstream } of sessions) {
        client.unpipe(upstream);
        client.pause();
      }
      await new Promise((r) => setTimeout(r, drainMs));
      for (const s of sockets) s.destroy();
      await closed;
    },
    resume: () => new Promise<void>((resolve) => server.listen(proxy.port, '127.0.0.1', resolve)),
  };
  const server = net.createServer((client) => {
    proxy.active++;
    proxy.sessions++;
    proxy.maxActive = Math.max(proxy.maxActive, proxy.active);
    const upstream = net.connect(targetPort, '127.0.0.1');
    sockets.add(client);
    sockets.add(upstream);
    const session = { client, upstream };
    sessions.add(session);
    let closed = false;
    const close = (): void => {
      if (closed) return;
      closed = true;
      proxy.active--;
      sessions.delete(session);
      sockets.delete(client);
      sockets.delete(upstream);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', close).on('close', close);
    upstream.on('error', close).on('close', close);
    client.pipe(upstream);
    // Server → client in small chunks, each after the configured delay.
    let chain = Promise.resolve();
    upstream.on('data', (data: Buffer) => {
      upstream.pause();
      chain = chain.then(async () => {
        for (let i = 0; i < data.length && !closed; i += 16 * 1024) {
          if (proxy.delayMs > 0) await new Promise((r) => setTimeout(r, proxy.delayMs));
          client.write(data.subarray(i, i + 16 * 1024));
        }
        upstream.resume();
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  proxy.port = (server.address() as net.AddressInfo).port;
  return proxy;
}
