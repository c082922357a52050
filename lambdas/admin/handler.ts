/** Management API Lambda: API Gateway REST event (IAM-authorized) in, JSON out. */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { adminRequestFrom } from '#shared/apigateway.ts';
import { readEnv } from '#shared/env.ts';
import { logger } from '#shared/log.ts';
import { serveAdmin } from './boundary.ts';
import { adminFromEnv } from './deps.ts';

const deps = adminFromEnv(readEnv());

export const handler = middy<APIGatewayProxyEvent, APIGatewayProxyResult>()
  .use(injectLambdaContext(logger))
  .handler((event) => serveAdmin(adminRequestFrom(event), deps));
