/** OpenAI's API, and any server that speaks it (vLLM, Ollama, Groq, OpenRouter…). */
import { listOf, numberAt, type ProviderAdapter, type UpstreamOperation, type Usage } from './types.ts';

const PATHS: Partial<Record<UpstreamOperation, string>> = {
  chatCompletions: '/chat/completions',
  responses: '/responses',
  embeddings: '/embeddings',
};

/** Chat completions report prompt/completion tokens; the Responses API input/output tokens. */
function usageOf(usage: unknown): Usage | undefined {
  const input = numberAt(usage, 'prompt_tokens') ?? numberAt(usage, 'input_tokens');
  if (input === undefined) return undefined;
  return {
    inputTokens: input,
    outputTokens: numberAt(usage, 'completion_tokens') ?? numberAt(usage, 'output_tokens') ?? 0,
  };
}

/** OpenAI: `baseUrl` is `https://api.openai.com/v1`, as in the official SDK. */
export const openai: ProviderAdapter = {
  type: 'openai',
  api: 'openai',
  path: (operation) => PATHS[operation],
  probePath: '/models',
  modelList: {
    path: '/models',
    read: (body) => ({ ids: listOf(body, 'data').map((m) => String(m.id)) }),
  },
  authHeaders: (credential) => ({ authorization: `Bearer ${credential}` }),
  forwardHeaders: { 'openai-organization': undefined, 'openai-project': undefined },
  isRateLimited: (status, body) =>
    status === 429 || /"(code|type)"\s*:\s*"(rate_limit_exceeded|insufficient_quota)"/.test(body),
  usageFromBody: (body) => usageOf((body as { usage?: unknown } | undefined)?.usage),
  readStreamEvent(data, state) {
    if (typeof data !== 'object' || data === null) return { content: false };
    const record = data as {
      usage?: unknown;
      choices?: Array<{ delta?: { content?: unknown } }>;
      type?: string;
      response?: { usage?: unknown };
    };
    const content = record.choices?.[0]?.delta?.content;
    const usage =
      usageOf(record.usage) ??
      (record.type === 'response.completed' ? usageOf(record.response?.usage) : undefined);
    return {
      content:
        (typeof content === 'string' && content !== '') || record.type === 'response.output_text.delta',
      usage,
      // The usage-only chunk the gateway asked for on the client's behalf is not the client's to see.
      drop:
        state.hideUsageChunk &&
        usage !== undefined &&
        Array.isArray(record.choices) &&
        record.choices.length === 0,
    };
  },
};

/** Any OpenAI-compatible base URL; same wire protocol as {@link openai}. */
export const openaiCompatible: ProviderAdapter = { ...openai, type: 'openai-compatible' };
