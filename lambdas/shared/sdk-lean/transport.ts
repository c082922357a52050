/** How the lean AWS callers send a signed request: `node:http(s)` over kept-alive connections. */
import type { Agent, ClientRequest, IncomingMessage, RequestOptions } from 'node:http';

/** One signed request, as a transport sends it. */
export interface WireRequest {
  url: URL;
  headers: Record<string, string>;
  body: string;
  timeoutMs: number;
}

/** An answer as a transport received it; a transport rejects only when no answer came. */
export interface WireAnswer {
  status: number;
  /** Lower-case names. */
  headers: Record<string, string | undefined>;
  body: string;
}

/** Sends one request and reads its whole answer. */
export type Transport = (request: WireRequest) => Promise<WireAnswer>;

type Client = {
  request(url: URL, options: RequestOptions, answer: (res: IncomingMessage) => void): ClientRequest;
  agent: Agent;
};
const clients = new Map<string, Client>();

/**
 * The module for a protocol with its one pool per process (connections are reused across calls, as the
 * SDK's client does), loaded at the first call: `import 'node:http'` would cost the bundle's import about
 * 25 ms here (its ESM facade loads undici), the CommonJS module 3-5 ms.
 */
function clientFor(protocol: string): Client {
  let client = clients.get(protocol);
  if (client === undefined) {
    const module =
      protocol === 'https:' ? process.getBuiltinModule('node:https') : process.getBuiltinModule('node:http');
    client = { request: module.request, agent: new module.Agent({ keepAlive: true, maxSockets: 50 }) };
    clients.set(protocol, client);
  }
  return client;
}

/** The default transport: `node:http(s)` over kept-alive connections (`fetch` costs about 0.25 ms more CPU a call). */
export const nodeTransport: Transport = ({ url, headers, body, timeoutMs }) =>
  new Promise((resolve, reject) => {
    const client = clientFor(url.protocol);
    const req = client.request(
      url,
      {
        method: 'POST',
        headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
        agent: client.agent,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', (err) => {
          clearTimeout(deadline);
          reject(err);
        });
        res.on('end', () => {
          clearTimeout(deadline);
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers as Record<string, string | undefined>,
            body: Buffer.concat(chunks).toString('utf8'),
          });
        });
      },
    );
    // A deadline on the whole exchange (a socket timeout only fires while nothing arrives), with the code
    // the SDK classifies as transient.
    const deadline = setTimeout(
      () => req.destroy(Object.assign(new Error(`no answer within ${timeoutMs} ms`), { code: 'ETIMEDOUT' })),
      timeoutMs,
    );
    req.on('error', (err) => {
      clearTimeout(deadline);
      reject(err);
    });
    req.end(body);
  });
