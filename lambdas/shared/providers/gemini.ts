/** Google's Gemini API: `baseUrl` is `https://generativelanguage.googleapis.com`, as in the official SDK. */
import { listOf, numberAt, type ProviderAdapter, type UpstreamOperation, type Usage } from './types.ts';

/** What follows `models/{model}` upstream for each operation (v1beta serves everything v1 does). */
const ACTIONS: Partial<Record<UpstreamOperation, string>> = {
  generateContent: ':generateContent',
  streamGenerateContent: ':streamGenerateContent?alt=sse',
  countTokens: ':countTokens',
};

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
    const suffix = ACTIONS[operation];
    return suffix === undefined ? undefined : `/v1beta/models/${encodeURIComponent(model)}${suffix}`;
  },
  probePath: '/v1beta/models',
  modelList: {
    path: '/v1beta/models?pageSize=1000',
    read(body) {
      const token = (body as { nextPageToken?: unknown }).nextPageToken;
      return {
        // Only models the gateway can serve: embedding-only models cannot generate.
        ids: listOf(body, 'models')
          .filter(
            (m) =>
              Array.isArray(m.supportedGenerationMethods) &&
              m.supportedGenerationMethods.includes('generateContent'),
          )
          .map((m) => String(m.name).replace(/^models\//, '')),
        next:
          typeof token === 'string' && token !== '' ? `&pageToken=${encodeURIComponent(token)}` : undefined,
      };
    },
  },
  authHeaders: (credential) => ({ 'x-goog-api-key': credential }),
  forwardHeaders: {},
  isRateLimited: (status, body) => status === 429 || /RESOURCE_EXHAUSTED/.test(body),
  usageFromBody: usageOf,
  readStreamEvent(data) {
    // Every chunk repeats the cumulative usage so far; the last one wins.
    const candidates = (data as { candidates?: unknown } | null | undefined)?.candidates;
    return { content: Array.isArray(candidates) && candidates.length > 0, usage: usageOf(data) };
  },
};
