/** Proxy Lambda: API Gateway REST event in, streamed response out (middy v7 response streaming). */
import type { Writable } from 'node:stream';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import { executionModeStreamifyResponse } from '@middy/core/StreamifyResponse';
import type { APIGatewayProxyEvent, Context } from 'aws-lambda';
import { fromApiGatewayEvent } from '#shared/apigateway.ts';
import { readEnv } from '#shared/env.ts';
import { logger } from '#shared/log.ts';
import { clientSignal } from './client-signal.ts';
import { proxyFromEnv } from './deps.ts';
import { tolerateDroppedRuntimeConnections } from './runtime-drop.ts';

/** middy's streaming contract: status and headers are committed before the body streams. */
interface LambdaStreamingResponse {
  statusCode: number;
  headers: Record<string, string>;
  body: string | ReadableStream<Uint8Array>;
}

type StreamingHandler = (
  event: APIGatewayProxyEvent,
  responseStream: Writable,
  context: Context,
) => Promise<void>;

tolerateDroppedRuntimeConnections();
const proxy = proxyFromEnv(readEnv());
/** The client signal of each invocation, by its context (middy hands the inner handler no stream). */
const signals = new WeakMap<Context, AbortSignal>();

const streamed = middy<APIGatewayProxyEvent, LambdaStreamingResponse>({
  executionMode: executionModeStreamifyResponse,
})
  .use(injectLambdaContext(logger))
  .handler(async (event: APIGatewayProxyEvent, context: Context) => {
    const signal = signals.get(context) ?? new AbortController().signal;
    const response = await proxy.handle(fromApiGatewayEvent(event, signal));
    return { statusCode: response.status, headers: response.headers, body: response.body };
  }) as unknown as StreamingHandler;

/** The runtime's entry: the response stream it passes is what says the client left (see client-signal). */
export const handler = awslambda.streamifyResponse(
  async (event: APIGatewayProxyEvent, responseStream: Writable, context: Context) => {
    signals.set(context, clientSignal(responseStream));
    await streamed(event, responseStream, context);
  },
);
