/**
 * A fake of OpenAI's API: Bearer auth with OpenAI's 401 body; chat completions (JSON with `usage`, or SSE
 * `chat.completion.chunk`s ending in `data: [DONE]`, the usage chunk only when
 * `stream_options.include_usage` is set), with function calls; the Responses API (openai-responses.ts);
 * embeddings; the models list and one model; and OpenAI's error shape.
 */
import type { ServerResponse } from 'node:http';
import { serveResponses } from './openai-responses.ts';
import {
  answerWords,
  type FakeUpstream,
  type ScriptedToolCall,
  sse,
  startFakeUpstream,
} from './upstream-base.ts';

const PROMPT_TOKENS = 7;
const CREATED = 1_763_900_000;

/** OpenAI's answer to a wrong key. */
export const OPENAI_UNAUTHORIZED = {
  status: 401,
  body: {
    error: {
      message: 'Incorrect API key provided.',
      type: 'invalid_request_error',
      param: null,
      code: 'invalid_api_key',
    },
  },
};

const openaiError = (message: string, code: string | null) => ({
  error: { message, type: 'invalid_request_error', param: null, code },
});

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

interface ChatRequest {
  model: string;
  stream?: boolean;
  stream_options?: { include_usage?: boolean };
  messages?: Array<{ role?: string; content?: unknown }>;
  tools?: Array<{ type?: string; function?: { name?: string } }>;
}

/** The tool to call now: offered by the request and not answered yet. */
function toolToCall(request: ChatRequest, tool: ScriptedToolCall | undefined): ScriptedToolCall | undefined {
  if (tool === undefined || request.messages?.at(-1)?.role === 'tool') return undefined;
  return request.tools?.some((t) => t.function?.name === tool.name) === true ? tool : undefined;
}

/** Starts the fake; it accepts any of `apiKeys`. `baseUrl` is what an operator registers. */
export async function startFakeOpenAI(...apiKeys: string[]) {
  const models = ['gpt-4o', 'gpt-4o-mini', 'text-embedding-3-small'];
  const modelObject = (id: string) => ({ id, object: 'model', created: CREATED, owned_by: 'system' });
  const fake = await startFakeUpstream(
    {
      credentialOf: (req) => /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1],
      unauthorized: OPENAI_UNAUTHORIZED,
      rateLimited: {
        status: 429,
        headers: { 'retry-after': '20' },
        body: {
          error: {
            message: 'Rate limit reached for requests',
            type: 'requests',
            param: null,
            code: 'rate_limit_exceeded',
          },
        },
      },
      async serve(req, res, stream) {
        if (req.method === 'GET' && req.path === '/v1/models')
          return json(res, 200, { object: 'list', data: models.map(modelObject) });
        const one = /^\/v1\/models\/([^/?]+)$/.exec(req.path)?.[1];
        if (req.method === 'GET' && one !== undefined) {
          const id = decodeURIComponent(one);
          return models.includes(id)
            ? json(res, 200, modelObject(id))
            : json(
                res,
                404,
                openaiError(
                  `The model '${id}' does not exist or you do not have access to it.`,
                  'model_not_found',
                ),
              );
        }
        if (req.method === 'POST' && req.path === '/v1/embeddings') {
          const request = JSON.parse(req.body) as { model: string; input: string | string[] };
          const inputs = Array.isArray(request.input) ? request.input : [request.input];
          return json(res, 200, {
            object: 'list',
            data: inputs.map((text, index) => ({
              object: 'embedding',
              index,
              embedding: [text.length / 100, 0.25, -0.5],
            })),
            model: request.model,
            usage: { prompt_tokens: PROMPT_TOKENS, total_tokens: PROMPT_TOKENS },
          });
        }
        if (req.method === 'POST' && req.path === '/v1/responses')
          return serveResponses({ req, res, stream, state: fake.state, sequence: fake.requests.length });
        if (req.method !== 'POST' || req.path !== '/v1/chat/completions')
          return json(res, 404, openaiError('Not found', null));
        const request = JSON.parse(req.body) as ChatRequest;
        const id = `chatcmpl-${fake.requests.length}`;
        const last = request.messages?.at(-1);
        const words = answerWords(fake.state.words, last?.role === 'tool' ? last.content : undefined);
        const tool = toolToCall(request, fake.state.tool);
        const call =
          tool === undefined
            ? undefined
            : {
                id: `call_${fake.requests.length}`,
                type: 'function',
                function: { name: tool.name, arguments: JSON.stringify(tool.args) },
              };
        const completionTokens = call === undefined ? words.length : 5;
        const usage = {
          prompt_tokens: PROMPT_TOKENS,
          completion_tokens: completionTokens,
          total_tokens: PROMPT_TOKENS + completionTokens,
        };
        const finish = call === undefined ? 'stop' : 'tool_calls';
        if (request.stream !== true) {
          const message =
            call === undefined
              ? { role: 'assistant', content: words.join(''), refusal: null }
              : { role: 'assistant', content: null, refusal: null, tool_calls: [call] };
          return json(res, 200, {
            id,
            object: 'chat.completion',
            created: CREATED,
            model: request.model,
            choices: [{ index: 0, message, logprobs: null, finish_reason: finish }],
            usage,
          });
        }
        const chunk = (choices: unknown[], extra: Record<string, unknown> = {}): string =>
          sse({
            id,
            object: 'chat.completion.chunk',
            created: CREATED,
            model: request.model,
            system_fingerprint: null,
            choices,
            ...extra,
          });
        const delta = (d: Record<string, unknown>) =>
          chunk([{ index: 0, delta: d, logprobs: null, finish_reason: null }]);
        const content =
          call === undefined
            ? words.map((word) => delta({ content: word }))
            : [
                delta({
                  tool_calls: [{ index: 0, ...call, function: { name: call.function.name, arguments: '' } }],
                }),
                delta({ tool_calls: [{ index: 0, function: { arguments: call.function.arguments } }] }),
              ];
        await stream(res, [delta({ role: 'assistant', content: call === undefined ? '' : null })], content, [
          chunk([{ index: 0, delta: {}, logprobs: null, finish_reason: finish }]),
          ...(request.stream_options?.include_usage === true ? [chunk([], { usage })] : []),
          sse('[DONE]'),
        ]);
      },
    },
    apiKeys,
  );
  return { ...fake, baseUrl: `${fake.url}/v1`, models };
}

export type FakeOpenAI = Awaited<ReturnType<typeof startFakeOpenAI>> & FakeUpstream;
