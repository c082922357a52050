/**
 * The local gateway: a `node:http` server on 127.0.0.1 that does what API Gateway does in AWS — route
 * matching, the REQUEST authorizer with its cache and policy evaluation, gateway responses — and invokes
 * the very same authorizer and proxy handlers with API Gateway REST events and emulated Lambda response
 * streaming. Handlers read the env contract at import, so the caller sets `process.env` first.
 *
 * Over 300 lines because API Gateway's request path (routing, the two authorizers, preflight, `/admin` and
 * the streaming relay) runs in one closure over the server's options; `/admin` is the first part to move out.
 */
import { randomUUID, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayAuthorizerResult, APIGatewayRequestAuthorizerEvent, Context } from 'aws-lambda';
import { ENV, readEnv } from '#shared/env.ts';
import { hasAuthorizer, matchRoute } from '#shared/routes.ts';
import {
  type GatewayResponseType,
  gatewayResponse,
  PREFLIGHT_ALLOW_HEADERS,
  renderGatewayResponse,
} from '../gateway-responses.ts';
import { AuthorizerEmulator } from './authorizer-emulation.ts';
import { authorizerEvent, type IncomingParts, proxyEvent } from './events.ts';
import {
  exceedsPayload,
  type GatewayClock,
  type IntegrationLimits,
  integrationLimits,
  realClock,
  watchStream,
  withinBufferedTimeout,
} from './integration-limits.ts';
import {
  installAwsLambdaGlobal,
  invokeStreaming,
  isStreamingHandler,
  localContext,
} from './lambda-runtime.ts';
import { localActor } from './state.ts';

/** API Gateway's hard payload limit; the proxy enforces the (smaller) configured limit itself. */
const API_GATEWAY_MAX_PAYLOAD = 10 * 1024 * 1024;

/** How the local gateway listens and behaves. */
export interface GatewayOptions {
  /** 0 picks a free port. */
  port: number;
  /** Authorizer result cache TTL in seconds, as on the deployed API; 0 disables caching. */
  authorizerCacheTtlSeconds: number;
  stage?: string;
  /** The management API's token (`.tollgate/admin.token`); without one `/admin` is closed. */
  adminToken?: string;
  /** Misbehaviour on purpose, for tests that must see a check catch it (`tollgate doctor`'s). */
  faults?: GatewayFaults;
  /** AWS's integration and payload limits by default; tests scale them. */
  limits?: Partial<IntegrationLimits>;
  /** Real time by default; tests fire the limits instead of waiting. */
  clock?: GatewayClock;
}

/** Ways a misdeployed API could break what clients rely on; none is on unless a test asks. */
export interface GatewayFaults {
  /** Holds a streamed body back and sends it in one write at its end, as a buffering proxy would. */
  bufferStreams?: boolean;
  /** Answers refused keys with this body instead of the documented one. */
  denialBody?: Record<string, unknown>;
  /** Drops the key's limits from the authorizer context, so none is enforced. */
  dropLimits?: boolean;
}

/** A running local gateway. */
export interface RunningGateway {
  url: string;
  port: number;
  server: Server;
  /** The cached authorizer of `bearer` routes (OpenAI clients); `any` routes have none. */
  authorizer: AuthorizerEmulator;
  close(): Promise<void>;
}

/**
 * What API Gateway answers for each type it raises here, before customisation: its status for the type and
 * its `$context.error.messageString`. A fallback (DEFAULT_*) is named with the status of the uncustomised
 * type it stands for.
 */
const AWS_RESPONSES: Readonly<
  Record<string, { type: GatewayResponseType; status: number; message: string }>
> = {
  unauthorized: { type: 'UNAUTHORIZED', status: 401, message: 'Unauthorized' },
  access_denied: {
    type: 'ACCESS_DENIED',
    status: 403,
    message: 'User is not authorized to access this resource',
  },
  failure: { type: 'AUTHORIZER_FAILURE', status: 500, message: 'Internal server error' },
  configuration_error: {
    type: 'AUTHORIZER_CONFIGURATION_ERROR',
    status: 500,
    message: 'Internal server error',
  },
  missingToken: {
    type: 'MISSING_AUTHENTICATION_TOKEN',
    status: 403,
    message: 'Missing Authentication Token',
  },
  tooLarge: { type: 'REQUEST_TOO_LARGE', status: 413, message: 'Request Too Long' },
  timeout: { type: 'INTEGRATION_TIMEOUT', status: 504, message: 'Endpoint request timed out' },
  // A Lambda proxy integration whose function fails answers 502 through the 5XX fallback.
  lambdaError: { type: 'DEFAULT_5XX', status: 502, message: 'Internal server error' },
  internal: { type: 'DEFAULT_5XX', status: 500, message: 'Internal server error' },
};

type AuthorizerHandler = (
  event: APIGatewayRequestAuthorizerEvent,
  context: Context,
) => Promise<APIGatewayAuthorizerResult>;

/** Sends one of API Gateway's own responses, as the deployed mappings and template render it. */
function sendGatewayResponse(
  res: ServerResponse,
  which: keyof typeof AWS_RESPONSES,
  request: { requestId: string; headers: Readonly<Record<string, string | undefined>> },
): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const aws = AWS_RESPONSES[which];
  if (aws === undefined) throw new Error(`no API Gateway response ${which}`);
  const rendered = renderGatewayResponse(gatewayResponse(aws.type), {
    requestId: request.requestId,
    defaultStatus: aws.status,
    awsMessage: aws.message,
    requestHeaders: request.headers,
    corsOrigins: readEnv().corsOrigins,
  });
  res.writeHead(rendered.status, rendered.headers);
  res.end(rendered.body);
}

async function readBody(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** Every value of every request header, in order (API Gateway's `multiValueHeaders`). */
function multiHeadersOf(req: IncomingMessage): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [name, values] of Object.entries(req.headersDistinct))
    if (values !== undefined) out[name] = values;
  return out;
}

/** The last value of each request header, as API Gateway fills `headers` (Node's own map keeps the first
 * of a repeated `authorization` and joins others with commas; API Gateway does neither). */
function headersOf(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, values] of Object.entries(multiHeadersOf(req))) {
    const last = values[values.length - 1];
    if (last !== undefined) out[name] = last;
  }
  return out;
}

/** Loads the real handler modules (after installing the runtime's `awslambda` global). */
async function loadHandlers(): Promise<{ authorizer: AuthorizerHandler; proxy: unknown }> {
  installAwsLambdaGlobal();
  const [authorizerModule, proxyModule] = await Promise.all([
    import('../../lambdas/authorizer/handler.ts'),
    import('../../lambdas/proxy/handler.ts'),
  ]);
  return {
    authorizer: authorizerModule.handler as unknown as AuthorizerHandler,
    proxy: proxyModule.handler,
  };
}

/** Starts the gateway on 127.0.0.1. */
export async function startGateway(options: GatewayOptions): Promise<RunningGateway> {
  // As deployed, the proxy keeps a key it checked itself as long as the authorizer cache keeps its
  // answers; the handler reads it once, when its module loads (a first gateway of the process decides).
  process.env[ENV.callerCacheSeconds] ??= String(options.authorizerCacheTtlSeconds);
  const handlers = await loadHandlers();
  const proxyHandler = handlers.proxy;
  if (!isStreamingHandler(proxyHandler)) throw new Error('the proxy handler is not a streaming handler');
  const streamingProxy = proxyHandler;
  const stage = options.stage ?? 'local';
  const limits = integrationLimits(options.limits);
  const clock = options.clock ?? realClock;
  const corsOrigins = readEnv().corsOrigins;
  const faults = options.faults ?? {};
  // The authorizer the stack deploys, on the routes it guards: see Carriers in the route table.
  const authorizer = new AuthorizerEmulator(handlers.authorizer, {
    identityHeaders: ['authorization'],
    ttlSeconds: options.authorizerCacheTtlSeconds,
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const requestId = randomUUID();
    const who = { requestId, headers: headersOf(req) };
    // Concatenated, not resolved: a request target such as `//x` is a path, not a host.
    const url = new URL(`http://127.0.0.1${req.url?.startsWith('/') === true ? req.url : '/'}`);
    const method = (req.method ?? 'GET').toUpperCase();
    const body = await readBody(req, API_GATEWAY_MAX_PAYLOAD);
    if (body === undefined) return sendGatewayResponse(res, 'tooLarge', who);
    if (url.pathname === '/admin' || url.pathname.startsWith('/admin/')) {
      return serveLocalAdmin(req, res, { requestId, method, url, body, headers: headersOf(req), stage });
    }
    const routeExists =
      !('error' in matchRoute('GET', url.pathname)) || !('error' in matchRoute('POST', url.pathname));
    if (method === 'OPTIONS' && corsOrigins.length > 0 && routeExists) {
      // API Gateway answers preflight itself (a mock integration), echoing an allowed origin.
      const origin = req.headers.origin;
      res.writeHead(204, {
        'access-control-allow-origin':
          origin !== undefined && corsOrigins.includes(origin) ? origin : (corsOrigins[0] ?? ''),
        'access-control-allow-methods': 'GET,POST,OPTIONS',
        'access-control-allow-headers': PREFLIGHT_ALLOW_HEADERS.join(','),
        'access-control-max-age': '86400',
        vary: 'origin',
        'x-request-id': requestId,
      });
      res.end();
      return;
    }
    const match = matchRoute(method, url.pathname);
    if (!('route' in match)) return sendGatewayResponse(res, 'missingToken', who);
    const { route, params } = match;
    const parts: IncomingParts = {
      requestId,
      method,
      path: url.pathname,
      resource: route.path,
      params,
      headers: headersOf(req),
      multiValueHeaders: multiHeadersOf(req),
      query: url.searchParams,
      body,
      sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
      stage,
    };

    let authorizerContext: Record<string, string> | null = null;
    if (hasAuthorizer(route)) {
      const decision = await authorizer.decide(
        authorizerEvent(parts),
        localContext('tollgate-authorizer', randomUUID()),
      );
      if (decision.effect !== 'allow') {
        if (faults.denialBody !== undefined && decision.effect !== 'failure') {
          res.writeHead(401, { 'content-type': 'application/json', 'x-request-id': requestId });
          res.end(JSON.stringify(faults.denialBody));
          return;
        }
        return sendGatewayResponse(res, decision.effect, who);
      }
      authorizerContext = { ...decision.context, principalId: decision.principalId };
      if (faults.dropLimits === true) authorizerContext.limits = '{}';
    }

    const event = proxyEvent(parts, authorizerContext);
    if (exceedsPayload(event, limits)) return sendGatewayResponse(res, 'tooLarge', who);
    const invocation = invokeStreaming(streamingProxy, event, localContext('tollgate-proxy', requestId));
    // Past either limit API Gateway stops waiting: a 504 before the prelude, a cut stream after it.
    let settled = false;
    const watch = watchStream(clock, limits, () => {
      invocation.abort();
      if (res.headersSent) res.destroy();
      else {
        settled = true;
        sendGatewayResponse(res, 'timeout', who);
      }
    });
    res.on('close', () => {
      watch.stop();
      if (!res.writableFinished) invocation.abort();
    });
    let prelude: Awaited<typeof invocation.prelude>;
    try {
      prelude = await invocation.prelude;
    } catch {
      if (settled || res.destroyed) return;
      watch.stop();
      // A Lambda that fails before its prelude is a 502 from API Gateway.
      return sendGatewayResponse(res, 'lambdaError', who);
    }
    if (settled || res.destroyed) return;
    const headers: Record<string, string | string[]> = { ...(prelude.headers ?? {}) };
    for (const [name, values] of Object.entries(prelude.multiValueHeaders ?? {})) headers[name] = values;
    if (prelude.cookies !== undefined) headers['set-cookie'] = prelude.cookies;
    headers['x-request-id'] ??= requestId;
    res.writeHead(prelude.statusCode ?? 200, headers);
    res.flushHeaders();
    watch.touch();
    invocation.body.on('data', () => watch.touch());
    invocation.body.on('end', () => watch.stop());
    if (faults.bufferStreams !== true) {
      invocation.body.pipe(res);
      return;
    }
    const held: Buffer[] = [];
    for await (const chunk of invocation.body as AsyncIterable<Buffer>) held.push(chunk);
    res.end(Buffer.concat(held));
  }

  /**
   * On AWS, `/admin` is IAM-authorized (SigV4) and the caller's ARN is the actor. Locally the stand-in is
   * a token from the state folder, accepted only from loopback, and the actor is `local:<os user>`.
   */
  async function serveLocalAdmin(
    req: IncomingMessage,
    res: ServerResponse,
    parts: {
      requestId: string;
      method: string;
      url: URL;
      body: Buffer;
      headers: Record<string, string>;
      stage: string;
    },
  ): Promise<void> {
    const remote = req.socket.remoteAddress ?? '';
    const loopback = remote === '127.0.0.1' || remote === '::1' || remote === '::ffff:127.0.0.1';
    const presented = Buffer.from(parts.headers['x-tollgate-admin-token'] ?? '');
    const expected = Buffer.from(options.adminToken ?? '');
    const tokenOk =
      expected.length > 0 && presented.length === expected.length && timingSafeEqual(presented, expected);
    if (!loopback || !tokenOk) {
      res.writeHead(403, { 'content-type': 'application/json', 'x-request-id': parts.requestId });
      res.end(
        JSON.stringify({
          error: { code: 'forbidden', message: 'The management API needs the admin token, from 127.0.0.1.' },
        }),
      );
      return;
    }
    const event = proxyEvent(
      {
        ...parts,
        path: parts.url.pathname,
        resource: '/admin/{proxy+}',
        params: { proxy: parts.url.pathname.slice('/admin/'.length) },
        query: parts.url.searchParams,
        sourceIp: remote,
      },
      null,
    );
    (event.requestContext.identity as { userArn: string | null }).userArn = localActor().id;
    const { handler } = (await import('../../lambdas/admin/handler.ts')) as unknown as {
      handler: (
        e: typeof event,
        c: ReturnType<typeof localContext>,
      ) => Promise<{ statusCode: number; headers?: Record<string, string>; body: string }>;
    };
    if (exceedsPayload(event, limits)) return sendGatewayResponse(res, 'tooLarge', parts);
    const result = await withinBufferedTimeout(
      clock,
      limits,
      handler(event, localContext('tollgate-admin', parts.requestId)),
    );
    if (result === undefined) return sendGatewayResponse(res, 'timeout', parts);
    res.writeHead(result.statusCode, {
      'content-type': 'application/json',
      ...result.headers,
      'x-request-id': parts.requestId,
    });
    res.end(result.body);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch(() =>
      sendGatewayResponse(res, 'internal', { requestId: randomUUID(), headers: {} }),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    server,
    authorizer,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
