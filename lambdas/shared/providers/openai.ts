/** OpenAI's API, and any server that speaks it (vLLM, Ollama, Groq, OpenRouter…). */
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
  transformStreamEvent(event, state) {
    const data = event.data === '[DONE]' ? undefined : tryParseJson(event.data);
    if (typeof data === 'object' && data !== null) {
      const record = data as {
        usage?: unknown;
        choices?: Array<{ delta?: { content?: unknown } }>;
        type?: string;
        response?: { usage?: unknown };
      };
      const content = record.choices?.[0]?.delta?.content;
      if ((typeof content === 'string' && content !== '') || record.type === 'response.output_text.delta') {
        state.contentEvents += 1;
      }
      const usage =
        usageOf(record.usage) ??
        (record.type === 'response.completed' ? usageOf(record.response?.usage) : undefined);
      if (usage !== undefined) state.usage = usage;
      // The usage-only chunk the gateway asked for on the client's behalf is not the client's to see.
      if (
        state.hideUsageChunk &&
        usage !== undefined &&
        Array.isArray(record.choices) &&
        record.choices.length === 0
      ) {
        return undefined;
      }
    }
    return frameSse(event);
  },
};

/** Any OpenAI-compatible base URL; same wire protocol as {@link openai}. */
export const openaiCompatible: ProviderAdapter = { ...openai, type: 'openai-compatible' };
