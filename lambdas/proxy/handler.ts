/** Proxy Lambda: API Gateway REST event in, streamed response out (middy v7 response streaming). */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import { executionModeStreamifyResponse } from '@middy/core/StreamifyResponse';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { fromApiGatewayEvent } from '#shared/apigateway.ts';
import { readEnv } from '#shared/env.ts';
import { logger } from '#shared/log.ts';
import { proxyFromEnv } from './deps.ts';

/** middy's streaming contract: status and headers are committed before the body streams. */
interface LambdaStreamingResponse {
  statusCode: number;
  headers: Record<string, string>;
  body: string | ReadableStream<Uint8Array>;
}

const proxy = proxyFromEnv(readEnv());

export const handler = middy<APIGatewayProxyEvent, LambdaStreamingResponse>({
  executionMode: executionModeStreamifyResponse,
})
  .use(injectLambdaContext(logger))
  .handler(async (event: APIGatewayProxyEvent) => {
    const response = await proxy.handle(fromApiGatewayEvent(event, new AbortController().signal));
    return { statusCode: response.status, headers: response.headers, body: response.body };
  });
