/**
 * The OpenAPI 3.1 document, generated from the route table, the request schemas the gateway validates
 * with, and the error catalogue — so the document cannot drift from what is served.
 */
import { API_SHAPES, type ApiShape, KEY_CARRIERS, type KeyCarrier } from './apis.ts';
import { ERROR_CATALOGUE, errorBody, gatewayErrorBody } from './errors.ts';
import { ROUTES, type RouteSpec } from './routes.ts';
import { REQUEST_SCHEMAS } from './schemas.ts';

const SUMMARIES: Record<RouteSpec['operation'], string> = {
  chatCompletions: 'OpenAI chat completions (streaming or not)',
  responses: 'OpenAI Responses API, passed through',
  embeddings: 'OpenAI embeddings, passed through',
  messages: 'Anthropic Messages API (streaming or not)',
  countTokens: 'Anthropic token counting',
  geminiModel: 'Gemini generateContent / streamGenerateContent (?alt=sse); {model} is "<model>:<action>"',
  models:
    "The model catalogue: public without a key, what the key may use with one; OpenAI's list shape with each model's `api`, Anthropic's with anthropic-version, Gemini's with a Google key",
  model: 'One model of the catalogue, in the shape of the API asking (as for the list)',
  keyInfo: "This key's name, team, scope, limits, spend this month and rate-limit state",
  usage: "This key's usage by day and model, or one request by ?request_id=",
  usageRequests:
    "This key's requests, newest first, a page at a time: ?since, ?until (ISO 8601), ?status, ?limit (1-1000, default 100), ?cursor (the previous page's nextCursor)",
  health: 'Gateway and per-provider health, without secrets',
  providerStats:
    'Per provider, over the last hour and day: requests, rate-limit events, error rate and time to first byte (p50); no secrets, no per-key data',
  analytics:
    'Aggregate usage of the installation over the last hour and day; only when the operator turns it on (404 otherwise)',
  openapi: 'This OpenAPI document',
  docs: 'A page rendering this document',
};

/** Operations about the gateway itself rather than any client API, tagged apart in the document. */
const GATEWAY_OPERATIONS: ReadonlySet<RouteSpec['operation']> = new Set([
  'health',
  'providerStats',
  'analytics',
  'openapi',
  'docs',
]);

/** `/v1beta/models/{model+}` (API Gateway's greedy parameter) as OpenAPI's `/v1beta/models/{model}`. */
export function openApiPath(path: string): string {
  return path.replace(/\{(\w+)\+\}/g, '{$1}');
}

/** Unique per route: an operation served under several paths (Gemini's `v1` and `v1beta`) gets the later path's version. */
function operationId(route: RouteSpec): string {
  const first = ROUTES.find((r) => r.operation === route.operation);
  if (first === route) return route.operation;
  const version = route.path.split('/')[1] ?? '';
  return `${route.operation}${version.charAt(0).toUpperCase()}${version.slice(1)}`;
}

function security(route: RouteSpec): Array<Record<string, string[]>> {
  if (route.auth === 'none') return [];
  const names = route.carriers === 'bearer' ? ['bearer'] : API_SHAPES[route.shape].carriers;
  const carriers: Array<Record<string, string[]>> = names.map((name) => ({ [name]: [] }));
  // An empty requirement makes the key optional.
  return route.auth === 'optional' ? [{}, ...carriers] : carriers;
}

/** A key carrier as an OpenAPI security scheme. */
function securityScheme(carrier: KeyCarrier): Record<string, unknown> {
  const description = carrier.description === undefined ? {} : { description: carrier.description };
  return carrier.bearer === true
    ? { type: 'http', scheme: 'bearer', ...description }
    : { type: 'apiKey', in: carrier.in, name: carrier.name, ...description };
}

function example(shape: ApiShape) {
  return {
    invalid_api_key: errorBody(shape, 'invalid_api_key', 'Invalid API key. Check the Tollgate key you sent.'),
  };
}

/** The whole document. */
export function openApiDocument(version: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of ROUTES) {
    const path = openApiPath(route.path);
    const schema = REQUEST_SCHEMAS[route.operation];
    const errorRef = { $ref: `#/components/schemas/${API_SHAPES[route.shape].errorSchema.name}` };
    const errors = Object.fromEntries(
      [...new Set(Object.values(ERROR_CATALOGUE).map((e) => e.status))]
        .filter((status) => route.auth !== 'none' || status >= 404)
        .map((status) => [
          String(status),
          {
            description: Object.entries(ERROR_CATALOGUE)
              .filter(([, e]) => e.status === status)
              .map(([code]) => code)
              .join(', '),
            content: { 'application/json': { schema: errorRef } },
          },
        ]),
    );
    paths[path] ??= {};
    paths[path][route.method.toLowerCase()] = {
      operationId: operationId(route),
      summary: SUMMARIES[route.operation],
      tags: [GATEWAY_OPERATIONS.has(route.operation) ? 'gateway' : route.shape],
      security: security(route),
      ...(route.path.includes('{')
        ? {
            parameters: [
              {
                name: 'model',
                in: 'path',
                required: true,
                schema: { type: 'string' },
                description: 'model id and action, e.g. gemini-2.5-flash:generateContent',
              },
            ],
          }
        : {}),
      ...(schema === undefined
        ? {}
        : { requestBody: { required: true, content: { 'application/json': { schema } } } }),
      responses: {
        '200': {
          description: 'Success; streamed as server-sent events when the request asks for a stream',
          headers: {
            'x-request-id': {
              schema: { type: 'string' },
              description: 'The request id, also in the request log',
            },
          },
          content: {
            [route.operation === 'docs' ? 'text/html' : 'application/json']: {
              schema: { type: route.operation === 'docs' ? 'string' : 'object' },
            },
            ...(schema?.properties?.stream !== undefined || route.operation === 'geminiModel'
              ? { 'text/event-stream': { schema: { type: 'string' } } }
              : {}),
          },
        },
        ...errors,
      },
      ...(route.auth === 'key' ? { 'x-error-examples': example(route.shape) } : {}),
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Tollgate LLM API gateway',
      version,
      description:
        'OpenAI, Anthropic and Gemini APIs behind Tollgate keys. Errors come in the calling API’s own shape; errors answered by API Gateway itself use the GatewayError shape, which carries every family’s fields.',
    },
    paths,
    components: {
      securitySchemes: Object.fromEntries(
        Object.entries<KeyCarrier>(KEY_CARRIERS).map(([name, carrier]) => [name, securityScheme(carrier)]),
      ),
      schemas: {
        ...Object.fromEntries(
          (Object.keys(API_SHAPES) as ApiShape[]).map((shape) => {
            const { name, required, properties } = API_SHAPES[shape].errorSchema;
            return [
              name,
              {
                type: 'object',
                required,
                properties,
                example: errorBody(shape, 'invalid_request', 'The request body is not valid JSON.'),
              },
            ];
          }),
        ),
        GatewayError: {
          type: 'object',
          properties: {
            type: { const: 'error' },
            error: {
              type: 'object',
              properties: {
                type: { type: 'string' },
                code: { type: 'string' },
                message: { type: 'string' },
                status: { type: 'string' },
              },
            },
          },
          example: gatewayErrorBody('invalid_api_key', 'Invalid API key. Check the Tollgate key you sent.'),
        },
      },
    },
  };
}
