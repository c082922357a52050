/** OpenAI's API, and any server that speaks it (vLLM, Ollama, Groq, OpenRouter…). */
import { frameSse } from '../proxy/sse.ts';
import type { ProviderAdapter } from './types.ts';

/** OpenAI's chat completions: `baseUrl` is `https://api.openai.com/v1`, as in the official SDK. */
export const openai: ProviderAdapter = {
  type: 'openai',
  api: 'openai',
  endpoints: { chatCompletions: '/chat/completions' },
  authHeaders: (credential) => ({ authorization: `Bearer ${credential}` }),
  isRateLimited: (status, body) =>
    status === 429 || /"code"\s*:\s*"(rate_limit_exceeded|insufficient_quota)"/.test(body),
  transformStreamEvent: (event) => frameSse(event),
};

/** Any OpenAI-compatible base URL; same wire protocol as {@link openai}. */
export const openaiCompatible: ProviderAdapter = { ...openai, type: 'openai-compatible' };
