/**
 * Management API Lambda: API Gateway REST event (IAM-authorized) in, JSON out; and the hourly EventBridge
 * schedule, on which it bills expired reservations that no admission touches any more.
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { adminRequestFrom } from '#shared/apigateway.ts';
import { readEnv } from '#shared/env.ts';
import { isScheduledEvent, type ScheduledEvent } from '#shared/events.ts';
import { logger } from '#shared/log.ts';
import { reconcileOnSchedule, serveAdmin } from './boundary.ts';
import { adminFromEnv } from './deps.ts';

const deps = adminFromEnv(readEnv());

export const handler = middy<
  APIGatewayProxyEvent | ScheduledEvent,
  APIGatewayProxyResult | { reconciled: number }
>()
  .use(injectLambdaContext(logger))
  .handler((event) =>
    isScheduledEvent(event) ? reconcileOnSchedule(event, deps) : serveAdmin(adminRequestFrom(event), deps),
  );
