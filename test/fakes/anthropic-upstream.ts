/**
 * A fake of Anthropic's Messages API: `x-api-key` auth, a required `anthropic-version`, messages with
 * usage, the named-event SSE stream (message_start … message_stop, with `ping`), count_tokens, and
 * Anthropic's error shape.
 */
import { sse, startFakeUpstream } from './upstream-base.ts';

const INPUT_TOKENS = 12;

const error = (type: string, message: string) => ({ type: 'error', error: { type, message } });

/** Starts the fake; it accepts any of `apiKeys`. Its `url` is what an operator registers. */
export async function startFakeAnthropic(...apiKeys: string[]) {
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
        const request = JSON.parse(req.body) as { model: string; stream?: boolean; max_tokens?: number };
        if (req.path === '/v1/messages/count_tokens') return json(200, { input_tokens: INPUT_TOKENS });
        if (req.path !== '/v1/messages') return json(404, error('not_found_error', 'Not found'));
        if (typeof request.max_tokens !== 'number')
          return json(400, error('invalid_request_error', 'max_tokens: Field required'));
        const words = fake.state.words;
        const id = `msg_${fake.requests.length}`;
        if (request.stream !== true) {
          return json(200, {
            id,
            type: 'message',
            role: 'assistant',
            model: request.model,
            content: [{ type: 'text', text: words.join('') }],
            stop_reason: 'end_turn',
            stop_sequence: null,
            usage: { input_tokens: INPUT_TOKENS, output_tokens: words.length },
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
              { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } },
              'content_block_start',
            ),
            sse({ type: 'ping' }, 'ping'),
          ],
          words.map((word) =>
            sse(
              { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: word } },
              'content_block_delta',
            ),
          ),
          [
            sse({ type: 'content_block_stop', index: 0 }, 'content_block_stop'),
            sse(
              {
                type: 'message_delta',
                delta: { stop_reason: 'end_turn', stop_sequence: null },
                usage: { output_tokens: words.length },
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
  return fake;
}
