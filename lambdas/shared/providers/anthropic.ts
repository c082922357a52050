/** Anthropic's Messages API: `baseUrl` is `https://api.anthropic.com`, as in the official SDK. */
import { frameSse } from '../proxy/sse.ts';
import {
  listOf,
  numberAt,
  type ProviderAdapter,
  tryParseJson,
  type UpstreamOperation,
  type Usage,
} from './types.ts';

const PATHS: Partial<Record<UpstreamOperation, string>> = {
  messages: '/v1/messages',
  countTokens: '/v1/messages/count_tokens',
};

/** Input tokens include prompt-cache reads and writes, which Anthropic reports separately. */
function inputTokens(usage: unknown): number | undefined {
  const base = numberAt(usage, 'input_tokens');
  if (base === undefined) return undefined;
  return (
    base +
    (numberAt(usage, 'cache_creation_input_tokens') ?? 0) +
    (numberAt(usage, 'cache_read_input_tokens') ?? 0)
  );
}

export const anthropic: ProviderAdapter = {
  type: 'anthropic',
  api: 'anthropic',
  path: (operation) => PATHS[operation],
  probePath: '/v1/models',
  modelList: {
    path: '/v1/models?limit=1000',
    read(body) {
      const page = body as { has_more?: unknown; last_id?: unknown };
      return {
        ids: listOf(body, 'data').map((m) => String(m.id)),
        next:
          page.has_more === true && typeof page.last_id === 'string'
            ? `&after_id=${encodeURIComponent(page.last_id)}`
            : undefined,
      };
    },
  },
  authHeaders: (credential) => ({ 'x-api-key': credential }),
  forwardHeaders: { 'anthropic-version': '2023-06-01', 'anthropic-beta': undefined },
  isRateLimited: (status, body) => status === 429 || /"type"\s*:\s*"rate_limit_error"/.test(body),
  usageFromBody(body): Usage | undefined {
    const usage = (body as { usage?: unknown } | undefined)?.usage;
    const input = inputTokens(usage);
    return input === undefined
      ? undefined
      : { inputTokens: input, outputTokens: numberAt(usage, 'output_tokens') ?? 0 };
  },
  transformStreamEvent(event, state) {
    const data = tryParseJson(event.data) as
      | { type?: string; message?: { usage?: unknown }; usage?: unknown }
      | undefined;
    if (data?.type === 'content_block_delta') state.contentEvents += 1;
    if (data?.type === 'message_start') {
      state.usage = {
        inputTokens: inputTokens(data.message?.usage) ?? 0,
        outputTokens: numberAt(data.message?.usage, 'output_tokens') ?? 0,
      };
    } else if (data?.type === 'message_delta') {
      // message_delta carries the cumulative output count.
      const output = numberAt(data.usage, 'output_tokens');
      if (output !== undefined)
        state.usage = { inputTokens: state.usage?.inputTokens ?? 0, outputTokens: output };
    }
    return frameSse(event);
  },
};
