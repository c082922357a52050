/** Google's Gemini API: `baseUrl` is `https://generativelanguage.googleapis.com`, as in the official SDK. */
import { frameSse } from '../proxy/sse.ts';
import { numberAt, type ProviderAdapter, tryParseJson, type Usage } from './types.ts';

function usageOf(body: unknown): Usage | undefined {
  const meta = (body as { usageMetadata?: unknown } | undefined)?.usageMetadata;
  const input = numberAt(meta, 'promptTokenCount');
  if (input === undefined) return undefined;
  // Thinking tokens are billed as output.
  return {
    inputTokens: input,
    outputTokens: (numberAt(meta, 'candidatesTokenCount') ?? 0) + (numberAt(meta, 'thoughtsTokenCount') ?? 0),
  };
}

export const gemini: ProviderAdapter = {
  type: 'gemini',
  api: 'gemini',
  path(operation, model) {
    const id = encodeURIComponent(model);
    if (operation === 'generateContent') return `/v1beta/models/${id}:generateContent`;
    if (operation === 'streamGenerateContent') return `/v1beta/models/${id}:streamGenerateContent?alt=sse`;
    return undefined;
  },
  probePath: '/v1beta/models',
  authHeaders: (credential) => ({ 'x-goog-api-key': credential }),
  forwardHeaders: {},
  isRateLimited: (status, body) => status === 429 || /RESOURCE_EXHAUSTED/.test(body),
  usageFromBody: usageOf,
  transformStreamEvent(event, state) {
    // Every chunk repeats the cumulative usage so far; the last one wins.
    const data = tryParseJson(event.data) as { candidates?: unknown[] } | undefined;
    if (Array.isArray(data?.candidates) && data.candidates.length > 0) state.contentEvents += 1;
    const usage = usageOf(data);
    if (usage !== undefined) state.usage = usage;
    return frameSse(event);
  },
};
