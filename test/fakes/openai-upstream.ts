/**
 * A fake of OpenAI's chat completions wire protocol: Bearer auth with OpenAI's 401 body, JSON completions
 * with `usage`, SSE streams of `chat.completion.chunk` objects ending in `data: [DONE]`, the usage chunk
 * only when `stream_options.include_usage` is set, and OpenAI's error shape.
 */
import { type FakeUpstream, sse, startFakeUpstream } from './upstream-base.ts';

const PROMPT_TOKENS = 7;

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

/** Starts the fake; it accepts any of `apiKeys`. `baseUrl` is what an operator registers. */
export async function startFakeOpenAI(...apiKeys: string[]) {
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
        if (req.method === 'GET' && req.path === '/v1/models') {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(
            JSON.stringify({
              object: 'list',
              data: [{ id: 'gpt-4o', object: 'model', created: 0, owned_by: 'system' }],
            }),
          );
          return;
        }
        if (req.method !== 'POST' || req.path !== '/v1/chat/completions') {
          res.writeHead(404, { 'content-type': 'application/json' });
          res.end(
            JSON.stringify({
              error: { message: 'Not found', type: 'invalid_request_error', param: null, code: null },
            }),
          );
          return;
        }
        const request = JSON.parse(req.body) as {
          model: string;
          stream?: boolean;
          stream_options?: { include_usage?: boolean };
        };
        const id = `chatcmpl-${fake.requests.length}`;
        const created = 1_763_900_000;
        const words = fake.state.words;
        const usage = {
          prompt_tokens: PROMPT_TOKENS,
          completion_tokens: words.length,
          total_tokens: PROMPT_TOKENS + words.length,
        };
        if (request.stream !== true) {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(
            JSON.stringify({
              id,
              object: 'chat.completion',
              created,
              model: request.model,
              choices: [
                {
                  index: 0,
                  message: { role: 'assistant', content: words.join(''), refusal: null },
                  logprobs: null,
                  finish_reason: 'stop',
                },
              ],
              usage,
            }),
          );
          return;
        }
        const chunk = (choices: unknown[], extra: Record<string, unknown> = {}): string =>
          sse({
            id,
            object: 'chat.completion.chunk',
            created,
            model: request.model,
            system_fingerprint: null,
            choices,
            ...extra,
          });
        await stream(
          res,
          [
            chunk([
              { index: 0, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null },
            ]),
          ],
          words.map((word) =>
            chunk([{ index: 0, delta: { content: word }, logprobs: null, finish_reason: null }]),
          ),
          [
            chunk([{ index: 0, delta: {}, logprobs: null, finish_reason: 'stop' }]),
            ...(request.stream_options?.include_usage === true ? [chunk([], { usage })] : []),
            sse('[DONE]'),
          ],
        );
      },
    },
    apiKeys,
  );
  return { ...fake, baseUrl: `${fake.url}/v1` };
}

export type FakeOpenAI = Awaited<ReturnType<typeof startFakeOpenAI>> & FakeUpstream;
