/**
 * A TCP pass-through in front of a server (DynamoDB Local) that a test can cut and restore, so a storage
 * outage hits requests already in flight exactly as a network partition would: open connections are
 * reset and new ones are refused until `restore()`. It can also lose one answer: the request reaches the
 * server, which applies it, and the client's connection is reset instead of receiving the reply.
 */
import { createConnection, createServer, type Socket } from 'node:net';

export async function startCuttableProxy(target: string) {
  const upstream = new URL(target);
  const sockets = new Set<Socket>();
  let cut = false;
  let loseNext = false;
  const server = createServer((client) => {
    if (cut) {
      client.resetAndDestroy();
      return;
    }
    const server = createConnection({ host: upstream.hostname, port: Number(upstream.port) });
    for (const socket of [client, server]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => undefined);
    }
    client.pipe(server);
    server.on('data', (chunk: Buffer) => {
      if (!loseNext) {
        client.write(chunk);
        return;
      }
      loseNext = false;
      client.resetAndDestroy();
    });
    server.on('end', () => client.end());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    /** Resets every open connection and refuses new ones. */
    cut(): void {
      cut = true;
      for (const socket of sockets) socket.resetAndDestroy();
    },
    restore(): void {
      cut = false;
    },
    /** The next answer from the server is dropped and its connection reset; the server has applied it. */
    loseNextAnswer(): void {
      loseNext = true;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
