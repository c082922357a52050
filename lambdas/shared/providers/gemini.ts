/** Google's Gemini API: `baseUrl` is `https://generativelanguage.googleapis.com`, as in the official SDK. */
import { frameSse } from '../proxy/sse.ts';
import {
  listOf,
  numberAt,
  type ProviderAdapter,
  tryParseJson,
  type UpstreamOperation,
  type Usage,
} from './types.ts';

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
  transformStreamEvent(event, state) {
    // Every chunk repeats the cumulative usage so far; the last one wins.
    const data = tryParseJson(event.data) as { candidates?: unknown[] } | undefined;
    if (Array.isArray(data?.candidates) && data.candidates.length > 0) state.contentEvents += 1;
    const usage = usageOf(data);
    if (usage !== undefined) state.usage = usage;
    return frameSse(event);
  },
};
