/** Authorizer Lambda: REQUEST authorizer event in, IAM policy and flat context out. */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { APIGatewayAuthorizerResult, APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import { authorizeRequest } from '#shared/auth.ts';
import { readEnv } from '#shared/env.ts';
import { logger } from '#shared/log.ts';
import { authorizerDepsFromEnv } from './deps.ts';

const deps = authorizerDepsFromEnv(readEnv());

export const handler = middy<APIGatewayRequestAuthorizerEvent, APIGatewayAuthorizerResult>()
  .use(injectLambdaContext(logger))
  .handler((event: APIGatewayRequestAuthorizerEvent) => authorizeRequest(event, deps));
