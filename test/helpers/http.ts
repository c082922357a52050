/** Small helpers for test servers on 127.0.0.1. */
import {
  createServer,
  type IncomingMessage,
  type RequestListener,
  request,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';

/** Starts a server on a free loopback port. */
export async function listen(
  handler: RequestListener,
): Promise<{ server: Server; port: number; close: () => Promise<void> }> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    server,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Reads a whole request body. */
export async function readAll(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}

/** A promise with its resolve function exposed. */
export function deferred<T = void>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/** The DynamoDB operation a request names (`UpdateItem`…), from its `X-Amz-Target` header. */
export function dynamoOperation(req: IncomingMessage): string | undefined {
  const target = req.headers['x-amz-target'];
  return target === undefined ? undefined : String(target).replace(/^DynamoDB_\d+\./, '');
}

/**
 * Passes one request through to `upstream` and pipes the answer back, for test proxies in front of a real
 * server. `body` is the request's text when the proxy has already read it; otherwise the request is piped.
 */
export function forwardTo(
  upstream: URL,
  exchange: { req: IncomingMessage; res: ServerResponse; body?: string },
): void {
  const { req, res, body } = exchange;
  const forward = request(
    { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers },
    (answer) => {
      res.writeHead(answer.statusCode ?? 500, answer.headers);
      answer.pipe(res);
    },
  );
  forward.on('error', () => res.destroy());
  if (body === undefined) req.pipe(forward);
  else forward.end(body);
}
