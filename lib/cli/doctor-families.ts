/**
 * How doctor speaks each API family: the route, the body and the carriers a key may travel in, and how a
 * refusal must look to that family's SDK (the fields each SDK builds its error from).
 */

/** The API families doctor calls. */
export type Family = 'openai' | 'anthropic' | 'gemini';

/** One family. */
export interface FamilySpec {
  path(slug: string, stream: boolean): string;
  body(slug: string, text: string, stream: boolean): Record<string, unknown>;
  /** Where a key travels: headers, or a query parameter. */
  carriers: Record<string, (key: string) => { headers: Record<string, string>; query?: string }>;
  /** Why a 401 body is not what this family's SDK expects, or undefined when it is. */
  refusalProblem(body: unknown): string | undefined;
  /** The answer's text in a whole (non-streamed) response. */
  textOf(body: unknown): string | undefined;
}

const at = (value: unknown, ...path: Array<string | number>): unknown => {
  let current = value;
  for (const key of path) {
    if (typeof current !== 'object' || current === null) return undefined;
    current = (current as Record<string | number, unknown>)[key];
  }
  return current;
};

const messageProblem = (body: unknown): string | undefined =>
  typeof at(body, 'error', 'message') === 'string' ? undefined : 'no error.message';

export const FAMILIES: Record<Family, FamilySpec> = {
  openai: {
    path: () => '/v1/chat/completions',
    body: (slug, text, stream) => ({ model: slug, messages: [{ role: 'user', content: text }], stream }),
    carriers: { bearer: (key) => ({ headers: { authorization: `Bearer ${key}` } }) },
    refusalProblem: (body) =>
      messageProblem(body) ??
      (at(body, 'error', 'code') === 'invalid_api_key' ? undefined : "error.code is not 'invalid_api_key'"),
    textOf: (body) => at(body, 'choices', 0, 'message', 'content') as string | undefined,
  },
  anthropic: {
    path: () => '/v1/messages',
    body: (slug, text, stream) => ({
      model: slug,
      max_tokens: 256,
      messages: [{ role: 'user', content: text }],
      stream,
    }),
    carriers: {
      'x-api-key': (key) => ({ headers: { 'x-api-key': key, 'anthropic-version': '2023-06-01' } }),
      bearer: (key) => ({ headers: { authorization: `Bearer ${key}`, 'anthropic-version': '2023-06-01' } }),
    },
    refusalProblem: (body) =>
      messageProblem(body) ??
      (at(body, 'type') === 'error' && at(body, 'error', 'type') === 'authentication_error'
        ? undefined
        : "not { type: 'error', error: { type: 'authentication_error' } }"),
    textOf: (body) => at(body, 'content', 0, 'text') as string | undefined,
  },
  gemini: {
    // The slug's slash travels encoded inside the one path segment.
    path: (slug, stream) =>
      `/v1beta/models/${encodeURIComponent(slug)}:${stream ? 'streamGenerateContent?alt=sse' : 'generateContent'}`,
    body: (_slug, text) => ({ contents: [{ role: 'user', parts: [{ text }] }] }),
    carriers: {
      'x-goog-api-key': (key) => ({ headers: { 'x-goog-api-key': key } }),
      'query key': (key) => ({ headers: {}, query: `key=${encodeURIComponent(key)}` }),
    },
    refusalProblem: (body) =>
      messageProblem(body) ??
      (at(body, 'error', 'status') === 'UNAUTHENTICATED'
        ? undefined
        : "error.status is not 'UNAUTHENTICATED'"),
    textOf: (body) => at(body, 'candidates', 0, 'content', 'parts', 0, 'text') as string | undefined,
  },
};

/** The URL of a family's call with a carrier's query, if any. */
export function callUrl(base: string, path: string, query: string | undefined): string {
  if (query === undefined) return `${base}${path}`;
  return `${base}${path}${path.includes('?') ? '&' : '?'}${query}`;
}
