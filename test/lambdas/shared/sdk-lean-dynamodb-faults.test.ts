/**
 * The lean DynamoDB client when DynamoDB cannot serve: what is transient (no answer, a 5xx, throttling)
 * is tried four times, as the SDK's DynamoDB client tries it, and then a 503; a refusal passes through at
 * once. And where its calls go and how they are signed, by region and partition.
 */
import { describe, expect, it } from 'vitest';
import { StorageUnavailableError } from '#shared/errors.ts';
import { leanDocumentDb } from '#shared/sdk-lean/dynamodb.ts';
import { nodeTransport } from '#shared/sdk-lean/transport.ts';
import { failure } from '../../helpers/failure.ts';
import { listen, readAll } from '../../helpers/http.ts';

const TABLE = 'lean-faults';
const CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };
const leanAt = (endpoint: string) =>
  leanDocumentDb({ endpoint, region: 'us-east-1', credentials: async () => CREDENTIALS });

describe('the lean client when DynamoDB cannot serve', () => {
  /** A server that answers every call with `status` and `type`, counting the calls. */
  async function answering(status: number, type: string) {
    let calls = 0;
    const server = await listen(async (req, res) => {
      await readAll(req);
      calls += 1;
      res.writeHead(status, { 'content-type': 'application/x-amz-json-1.0' });
      res.end(JSON.stringify({ __type: `com.amazonaws.dynamodb.v20120810#${type}`, message: 'no' }));
    });
    return { endpoint: `http://127.0.0.1:${server.port}`, calls: () => calls, close: server.close };
  }

  it.each([
    [500, 'InternalServerError'],
    [400, 'ProvisionedThroughputExceededException'],
    [400, 'ThrottlingException'],
  ])('tries a %i %s four times, then answers 503', async (status, type) => {
    const server = await answering(status, type);
    const db = leanAt(server.endpoint);
    const err = await failure(db.get({ TableName: TABLE, Key: { pk: 'x', sk: 'y' } }));
    await server.close();
    expect(err).toBeInstanceOf(StorageUnavailableError);
    expect((err.cause as Error).name).toBe(type);
    expect(server.calls()).toBe(4);
  });

  it('answers 503 when nothing listens, and passes a refusal through at once', async () => {
    const closed = await answering(200, 'none');
    await closed.close();
    const gone = leanAt(closed.endpoint);
    expect(await failure(gone.get({ TableName: TABLE, Key: { pk: 'x', sk: 'y' } }))).toBeInstanceOf(
      StorageUnavailableError,
    );

    const denying = await answering(400, 'AccessDeniedException');
    const db = leanAt(denying.endpoint);
    const err = await failure(db.get({ TableName: TABLE, Key: { pk: 'x', sk: 'y' } }));
    await denying.close();
    expect(err.name).toBe('AccessDeniedException');
    expect(denying.calls()).toBe(1);
  });

  it('signs for DynamoDB in the call’s region, at the partition’s endpoint, in JSON 1.0', async () => {
    const seen: Array<{ url: string; headers: Record<string, string> }> = [];
    const saved = process.env.AWS_ENDPOINT_URL_DYNAMODB;
    delete process.env.AWS_ENDPOINT_URL_DYNAMODB;
    try {
      const db = leanDocumentDb({
        region: 'cn-north-1',
        credentials: async () => ({ ...CREDENTIALS, sessionToken: 'session-1' }),
        transport: async ({ url, headers }) => {
          seen.push({ url: String(url), headers });
          return { status: 200, headers: {}, body: '{}' };
        },
      });
      await db.get({ TableName: TABLE, Key: { pk: 'x', sk: 'y' } });
    } finally {
      if (saved !== undefined) process.env.AWS_ENDPOINT_URL_DYNAMODB = saved;
    }
    const headers = seen[0]?.headers ?? {};
    expect(seen[0]?.url).toBe('https://dynamodb.cn-north-1.amazonaws.com.cn/');
    expect(headers['x-amz-target']).toBe('DynamoDB_20120810.GetItem');
    expect(headers['content-type']).toBe('application/x-amz-json-1.0');
    expect(headers.authorization).toMatch(/Credential=local\/\d{8}\/cn-north-1\/dynamodb\/aws4_request/);
    expect(headers['x-amz-security-token']).toBe('session-1');
  });
});

describe('the lean client given a success that is no answer', () => {
  it('tries a 200 whose body is no JSON object (a proxy page) again, then answers 503, never "not found"', async () => {
    let calls = 0;
    const server = await listen(async (req, res) => {
      await readAll(req);
      calls += 1;
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<html>captive portal</html>');
    });
    const err = await failure(
      leanAt(`http://127.0.0.1:${server.port}`).get({ TableName: TABLE, Key: { pk: 'x' } }),
    );
    await server.close();
    expect(err).toBeInstanceOf(StorageUnavailableError);
    expect((err.cause as Error).name).toBe('InvalidAnswer');
    expect(calls).toBe(4);
  });
});

describe('the transport given an answer that never ends', () => {
  it('gives up at its deadline although bytes keep arriving (an idle-socket timeout would wait for ever)', async () => {
    // A server that answers at once and then sends a byte every 20 ms for 5 s.
    const server = await listen(async (req, res) => {
      await readAll(req);
      res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' });
      const timer = setInterval(() => res.write(' '), 20);
      res.on('close', () => clearInterval(timer));
      setTimeout(() => {
        clearInterval(timer);
        res.end('{}');
      }, 5000);
    });
    const sending = nodeTransport({
      url: new URL(`http://127.0.0.1:${server.port}/`),
      headers: { 'content-type': 'application/x-amz-json-1.0' },
      body: '{}',
      timeoutMs: 200,
    });
    const err = await failure(sending);
    await server.close();
    expect(err.code).toBe('ETIMEDOUT');
  });
});
