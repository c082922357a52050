/**
 * The shipped bundles, built with the stack's own esbuild options, load on this Node and serve a request
 * through the streaming emulation against DynamoDB Local.
 */
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { beforeAll, describe, expect, it } from 'vitest';
import { esbuildOptions } from '../../lib/bundling.ts';
import {
  installAwsLambdaGlobal,
  invokeStreaming,
  isStreamingHandler,
  localContext,
} from '../../lib/local/lambda-runtime.ts';
import { setupLocalEnv } from '../helpers/local-env.ts';

const out = mkdtempSync(join(tmpdir(), 'tollgate-bundles-'));

beforeAll(async () => {
  await setupLocalEnv();
  installAwsLambdaGlobal();
  await build(esbuildOptions('authorizer', join(out, 'authorizer.mjs')));
  await build(esbuildOptions('proxy', join(out, 'proxy.mjs')));
});

describe('Lambda bundles', () => {
  it('bundle the SDK and stay within their ceilings', () => {
    // The performance targets (README, Performance): what lib/bundling.ts leaves out of the SDK, and the
    // lean JSON 1.1 caller in place of the KMS and Secrets Manager clients, keep them.
    const ceilings = { 'authorizer.mjs': 220 * 1024, 'proxy.mjs': 330 * 1024 };
    for (const [name, ceiling] of Object.entries(ceilings)) {
      const size = statSync(join(out, name)).size;
      expect(size).toBeGreaterThan(50_000);
      expect(size).toBeLessThanOrEqual(ceiling);
    }
  });

  it('serve GET /health from the proxy bundle', async () => {
    // Prepare
    const { handler } = (await import(pathToFileURL(join(out, 'proxy.mjs')).href)) as { handler: unknown };
    expect(isStreamingHandler(handler)).toBe(true);
    if (!isStreamingHandler(handler)) return;
    const event = {
      resource: '/health',
      path: '/health',
      httpMethod: 'GET',
      headers: {},
      body: null,
      isBase64Encoded: false,
      queryStringParameters: null,
      requestContext: { requestId: 'bundle-req', authorizer: null },
    };

    // Act
    const invocation = invokeStreaming(handler, event, localContext('proxy', 'bundle-req'));
    const prelude = await invocation.prelude;
    let body = '';
    for await (const chunk of invocation.body) body += chunk.toString();

    // Assess
    expect(prelude.statusCode).toBe(200);
    expect(prelude.headers?.['x-request-id']).toBe('bundle-req');
    expect(JSON.parse(body)).toEqual({ status: 'ok', storage: { status: 'ok' }, providers: [] });
  });

  it('refuse a malformed key in the authorizer bundle', async () => {
    const { handler } = (await import(pathToFileURL(join(out, 'authorizer.mjs')).href)) as {
      handler: (event: unknown, context: unknown) => Promise<unknown>;
    };
    await expect(
      handler(
        {
          type: 'REQUEST',
          methodArn: 'arn:aws:execute-api:r:a:api/s/GET/x',
          headers: { Authorization: 'Bearer nope' },
        },
        localContext('a', '1'),
      ),
    ).rejects.toThrow('Unauthorized');
  });
});
