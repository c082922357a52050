/**
 * A local Lambda Runtime API (2018-06-01), as documented for custom runtimes and response streaming: the
 * runtime client long-polls `GET /runtime/invocation/next` for an event (with the request id, deadline,
 * function ARN and trace headers), and answers on `POST /runtime/invocation/{id}/response` — streamed when it
 * sends `Lambda-Runtime-Function-Response-Mode: streaming` with chunked transfer encoding, the HTTP
 * integration's JSON prelude and 8 NUL bytes first, and a mid-stream error as the
 * `Lambda-Runtime-Function-Error-Type`/`-Body` trailers — or on `/error`. Each body chunk is recorded with
 * the moment it arrived, so a test sees when the function let each byte go; `dropClient` closes a streamed
 * response's connection as the service does when the caller went away.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { listen } from '../helpers/http.ts';

const PREFIX = '/2018-06-01/runtime';
const PRELUDE_TYPE = 'application/vnd.awslambda.http-integration-response';
const DELIMITER = Buffer.alloc(8);

/** One piece of a streamed response body as it arrived (`at`: `process.hrtime.bigint()`). */
export interface ArrivedChunk {
  at: bigint;
  bytes: Buffer;
}

/** What the function answered to one invocation. */
export interface InvocationRecord {
  requestId: string;
  streamed: boolean;
  contentType: string | undefined;
  chunks: ArrivedChunk[];
  /** The HTTP integration prelude (status code, headers), once it arrived whole. */
  prelude: Record<string, unknown> | undefined;
  /** The body after the prelude and its delimiter. */
  body: () => string;
  /** Error trailers or an `/error` post. */
  error: { type: string; body: string } | undefined;
  /** Resolves when the response ended (or the connection was dropped). */
  done: Promise<void>;
}

/** Starts the Runtime API; `invoke` queues an event and returns its record. */
export async function startRuntimeApi() {
  const queue: Array<{ requestId: string; event: unknown }> = [];
  const waiting: Array<(item: { requestId: string; event: unknown }) => void> = [];
  const records = new Map<string, InvocationRecord & { finish: () => void; req?: IncomingMessage }>();
  let polls = 0;
  const listeners = new Set<(record: InvocationRecord) => void>();

  const next = (res: ServerResponse): void => {
    polls += 1;
    const send = (item: { requestId: string; event: unknown }): void => {
      res.writeHead(200, {
        'content-type': 'application/json',
        'lambda-runtime-aws-request-id': item.requestId,
        'lambda-runtime-deadline-ms': String(Date.now() + 900_000),
        'lambda-runtime-invoked-function-arn':
          'arn:aws:lambda:eu-west-1:111122223333:function:tollgate-proxy',
        'lambda-runtime-trace-id': `Root=1-${Date.now().toString(16)}-${randomUUID().replace(/-/g, '').slice(0, 24)}`,
      });
      res.end(JSON.stringify(item.event));
    };
    const item = queue.shift();
    if (item !== undefined) send(item);
    else waiting.push(send);
  };

  const respond = (req: IncomingMessage, res: ServerResponse, requestId: string): void => {
    const record = records.get(requestId);
    if (record === undefined) {
      res.writeHead(404).end();
      return;
    }
    record.req = req;
    record.streamed = req.headers['lambda-runtime-function-response-mode'] === 'streaming';
    record.contentType = req.headers['content-type'];
    req.on('data', (bytes: Buffer) => {
      record.chunks.push({ at: process.hrtime.bigint(), bytes });
      if (record.contentType === PRELUDE_TYPE && record.prelude === undefined) {
        const all = Buffer.concat(record.chunks.map((c) => c.bytes));
        const end = all.indexOf(DELIMITER);
        if (end >= 0) record.prelude = JSON.parse(all.subarray(0, end).toString('utf8'));
      }
      for (const listener of listeners) listener(record);
    });
    req.on('end', () => {
      const type = req.trailers['lambda-runtime-function-error-type'];
      if (type !== undefined)
        record.error = {
          type,
          body: Buffer.from(req.trailers['lambda-runtime-function-error-body'] ?? '', 'base64').toString(),
        };
      res.writeHead(202, { 'content-type': 'application/json' }).end('{"status":"OK"}');
      record.finish();
    });
    req.on('close', () => record.finish());
  };

  const { port, close } = await listen((req, res) => {
    const path = req.url ?? '';
    if (req.method === 'GET' && path === `${PREFIX}/invocation/next`) return next(res);
    const match = path.match(/^\/2018-06-01\/runtime\/invocation\/([^/]+)\/(response|error)$/);
    if (req.method === 'POST' && match?.[2] === 'response') return respond(req, res, match[1] ?? '');
    if (req.method === 'POST' && match?.[2] === 'error') {
      const record = records.get(match[1] ?? '');
      let text = '';
      req.on('data', (c: Buffer) => {
        text += c.toString();
      });
      req.on('end', () => {
        if (record !== undefined) {
          record.error = {
            type: String(req.headers['lambda-runtime-function-error-type'] ?? ''),
            body: text,
          };
          record.finish();
        }
        res.writeHead(202).end('{"status":"OK"}');
      });
      return;
    }
    if (req.method === 'POST' && path === `${PREFIX}/init/error`) {
      req.resume();
      res.writeHead(202).end('{"status":"OK"}');
      return;
    }
    res.writeHead(404).end();
  });

  return {
    /** `host:port`, the value of `AWS_LAMBDA_RUNTIME_API`. */
    address: `127.0.0.1:${port}`,
    /** How many times the runtime asked for its next invocation (it asks again after each one it finished). */
    polls: () => polls,
    /** Queues an invocation of `event`. */
    invoke(event: unknown): InvocationRecord {
      const requestId = randomUUID();
      let finish!: () => void;
      const done = new Promise<void>((resolve) => {
        finish = resolve;
      });
      const record = {
        requestId,
        streamed: false,
        contentType: undefined,
        chunks: [] as ArrivedChunk[],
        prelude: undefined,
        body: () => {
          const all = Buffer.concat(record.chunks.map((c) => c.bytes));
          const end = record.contentType === PRELUDE_TYPE ? all.indexOf(DELIMITER) : -1;
          return all.subarray(end < 0 ? 0 : end + DELIMITER.length).toString('utf8');
        },
        error: undefined,
        done,
        finish,
      } as InvocationRecord & { finish: () => void; req?: IncomingMessage };
      records.set(requestId, record);
      const item = { requestId, event };
      const taker = waiting.shift();
      if (taker !== undefined) taker(item);
      else queue.push(item);
      return record;
    },
    /** Calls `listener` on every chunk that arrives, of any invocation. */
    onChunk(listener: (record: InvocationRecord) => void): () => void {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    /** Drops a streamed response's connection mid-stream, as the service does when the caller left. */
    dropClient(record: InvocationRecord): void {
      records.get(record.requestId)?.req?.socket.destroy();
    },
    close,
  };
}

export type RuntimeApi = Awaited<ReturnType<typeof startRuntimeApi>>;
