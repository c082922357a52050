/** Anthropic's Messages API: `baseUrl` is `https://api.anthropic.com`, as in the official SDK. */
import { listOf, numberAt, type ProviderAdapter, type UpstreamOperation, type Usage } from './types.ts';

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
  readStreamEvent(data, state) {
    const record = data as
      | { type?: string; message?: { usage?: unknown }; usage?: unknown }
      | null
      | undefined;
    const type = typeof record === 'object' && record !== null ? record.type : undefined;
    const content = type === 'content_block_delta';
    if (type === 'message_start') {
      const usage = record?.message?.usage;
      return {
        content,
        usage: { inputTokens: inputTokens(usage) ?? 0, outputTokens: numberAt(usage, 'output_tokens') ?? 0 },
      };
    }
    // message_delta carries the cumulative output count.
    const output = type === 'message_delta' ? numberAt(record?.usage, 'output_tokens') : undefined;
    return {
      content,
      usage:
        output === undefined
          ? undefined
          : { inputTokens: state.usage?.inputTokens ?? 0, outputTokens: output },
    };
  },
};
