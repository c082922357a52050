/**
 * A fake of Anthropic's Messages API: `x-api-key` auth, a required `anthropic-version`, messages with
 * usage and `tool_use`, the named-event SSE stream (message_start … message_stop, with `ping`),
 * count_tokens, the paginated models list (`after_id`, `limit`) and one model, and Anthropic's error shape.
 */
import { answerWords, pageAfter, type ScriptedToolCall, sse, startFakeUpstream } from './upstream-base.ts';

interface MessagesRequest {
  model: string;
  stream?: boolean;
  max_tokens?: number;
  messages?: Array<{ role?: string; content?: unknown }>;
  tools?: Array<{ name?: string }>;
}

/** The content of a `tool_result` block ending the conversation, if it ends in one. */
function toolResultOf(request: MessagesRequest): unknown {
  const content = request.messages?.at(-1)?.content;
  if (!Array.isArray(content)) return undefined;
  const block = (content as Array<{ type?: string; content?: unknown }>).find(
    (b) => b.type === 'tool_result',
  );
  if (block === undefined) return undefined;
  return Array.isArray(block.content)
    ? (block.content as Array<{ text?: string }>).map((c) => c.text ?? '').join('')
    : block.content;
}

function toolToCall(request: MessagesRequest, tool: ScriptedToolCall | undefined, answered: boolean) {
  if (tool === undefined || answered) return undefined;
  return request.tools?.some((t) => t.name === tool.name) === true ? tool : undefined;
}

const INPUT_TOKENS = 12;

const error = (type: string, message: string) => ({ type: 'error', error: { type, message } });

/** Starts the fake; it accepts any of `apiKeys`. Its `url` is what an operator registers. */
export async function startFakeAnthropic(...apiKeys: string[]) {
  const models = ['claude-haiku-4.5', 'claude-sonnet-4.6', 'claude-opus-4.5'];
  /** The largest page served, as the real API caps it (lower it to exercise pagination). */
  const paging = { max: 1000 };
  const fake = await startFakeUpstream(
    {
      credentialOf: (req) =>
        typeof req.headers['x-api-key'] === 'string' ? req.headers['x-api-key'] : undefined,
      unauthorized: { status: 401, body: error('authentication_error', 'invalid x-api-key') },
      rateLimited: {
        status: 429,
        headers: { 'retry-after': '15' },
        body: error('rate_limit_error', 'Number of requests has exceeded your rate limit'),
      },
      async serve(req, res, stream) {
        const json = (status: number, body: unknown): void => {
          res.writeHead(status, {
            'content-type': 'application/json',
            'request-id': `req_${fake.requests.length}`,
          });
          res.end(JSON.stringify(body));
        };
        if (req.headers['anthropic-version'] === undefined)
          return json(400, error('invalid_request_error', 'anthropic-version: header is required'));
        const url = new URL(req.path, 'http://fake');
        const modelObject = (id: string) => ({
          type: 'model',
          id,
          display_name: id,
          created_at: '2026-01-01T00:00:00Z',
        });
        if (req.method === 'GET' && url.pathname === '/v1/models') {
          const { page, more } = pageAfter(
            models,
            (m) => m,
            url.searchParams.get('after_id') ?? undefined,
            Math.min(Number(url.searchParams.get('limit') ?? 20), paging.max),
          );
          return json(200, {
            data: page.map(modelObject),
            has_more: more,
            first_id: page[0] ?? null,
            last_id: page.at(-1) ?? null,
          });
        }
        const one = /^\/v1\/models\/([^/]+)$/.exec(url.pathname)?.[1];
        if (req.method === 'GET' && one !== undefined) {
          const id = decodeURIComponent(one);
          return models.includes(id)
            ? json(200, modelObject(id))
            : json(404, error('not_found_error', `model: ${id}`));
        }
        const request = JSON.parse(req.body) as MessagesRequest;
        if (url.pathname === '/v1/messages/count_tokens') return json(200, { input_tokens: INPUT_TOKENS });
        if (url.pathname !== '/v1/messages') return json(404, error('not_found_error', 'Not found'));
        if (typeof request.max_tokens !== 'number')
          return json(400, error('invalid_request_error', 'max_tokens: Field required'));
        const toolResult = toolResultOf(request);
        const words = answerWords(fake.state.words, toolResult);
        const tool = toolToCall(request, fake.state.tool, toolResult !== undefined);
        const id = `msg_${fake.requests.length}`;
        const toolId = `toolu_${fake.requests.length}`;
        const stopReason = tool === undefined ? 'end_turn' : 'tool_use';
        const outputTokens = tool === undefined ? words.length : 5;
        if (request.stream !== true) {
          return json(200, {
            id,
            type: 'message',
            role: 'assistant',
            model: request.model,
            content:
              tool === undefined
                ? [{ type: 'text', text: words.join('') }]
                : [{ type: 'tool_use', id: toolId, name: tool.name, input: tool.args }],
            stop_reason: stopReason,
            stop_sequence: null,
            usage: { input_tokens: INPUT_TOKENS, output_tokens: outputTokens },
          });
        }
        await stream(
          res,
          [
            sse(
              {
                type: 'message_start',
                message: {
                  id,
                  type: 'message',
                  role: 'assistant',
                  model: request.model,
                  content: [],
                  stop_reason: null,
                  stop_sequence: null,
                  usage: { input_tokens: INPUT_TOKENS, output_tokens: 1 },
                },
              },
              'message_start',
            ),
            sse(
              {
                type: 'content_block_start',
                index: 0,
                content_block:
                  tool === undefined
                    ? { type: 'text', text: '' }
                    : { type: 'tool_use', id: toolId, name: tool.name, input: {} },
              },
              'content_block_start',
            ),
            sse({ type: 'ping' }, 'ping'),
          ],
          tool === undefined
            ? words.map((word) =>
                sse(
                  { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: word } },
                  'content_block_delta',
                ),
              )
            : [
                sse(
                  {
                    type: 'content_block_delta',
                    index: 0,
                    delta: { type: 'input_json_delta', partial_json: JSON.stringify(tool.args) },
                  },
                  'content_block_delta',
                ),
              ],
          [
            sse({ type: 'content_block_stop', index: 0 }, 'content_block_stop'),
            sse(
              {
                type: 'message_delta',
                delta: { stop_reason: stopReason, stop_sequence: null },
                usage: { output_tokens: outputTokens },
              },
              'message_delta',
            ),
            sse({ type: 'message_stop' }, 'message_stop'),
          ],
        );
      },
    },
    apiKeys,
  );
  return { ...fake, models, paging };
}
