/**
 * A fake of the Gemini API (generativelanguage), under both `v1` and `v1beta`: `x-goog-api-key` auth with
 * Google's error shape; generateContent with `usageMetadata` and `functionCall` parts;
 * streamGenerateContent with `alt=sse`, framed with CRLF line endings as Google's servers frame it, each
 * chunk carrying cumulative usage; countTokens; the paginated models list (`pageSize`, `pageToken`) and
 * one model.
 */
import type { ServerResponse } from 'node:http';
import { answerWords, pageAfter, sse, startFakeUpstream } from './upstream-base.ts';

const PROMPT_TOKENS = 9;

const googleError = (code: number, status: string, message: string) => ({ error: { code, message, status } });

interface GenerateRequest {
  contents?: Array<{ role?: string; parts?: Array<{ functionResponse?: { response?: unknown } }> }>;
  tools?: Array<{ functionDeclarations?: Array<{ name?: string }> }>;
}

/** A Gemini model resource; `embedding` models only embed, as on Google's list. */
function modelResource(id: string) {
  const embedding = id.includes('embedding');
  return {
    name: `models/${id}`,
    version: '001',
    displayName: id,
    inputTokenLimit: 1_048_576,
    outputTokenLimit: embedding ? 1 : 65_536,
    supportedGenerationMethods: embedding
      ? ['embedContent']
      : ['generateContent', 'countTokens', 'createCachedContent', 'batchGenerateContent'],
  };
}

/** Starts the fake; it accepts any of `apiKeys`. Its `url` is what an operator registers. */
export async function startFakeGemini(...apiKeys: string[]) {
  const models = ['gemini-2.5-flash', 'gemini-2.5-pro', 'gemini-embedding-001'];
  /** The largest page served, as the real API caps it (lower it to exercise pagination). */
  const paging = { max: 1000 };
  const fake = await startFakeUpstream(
    {
      credentialOf: (req) =>
        typeof req.headers['x-goog-api-key'] === 'string' ? req.headers['x-goog-api-key'] : undefined,
      unauthorized: {
        status: 400,
        body: googleError(400, 'INVALID_ARGUMENT', 'API key not valid. Please pass a valid API key.'),
      },
      rateLimited: {
        status: 429,
        body: googleError(429, 'RESOURCE_EXHAUSTED', 'Resource has been exhausted (e.g. check quota).'),
      },
      async serve(req, res, stream) {
        const json = (r: ServerResponse, status: number, body: unknown): void => {
          r.writeHead(status, { 'content-type': 'application/json; charset=UTF-8' });
          r.end(JSON.stringify(body));
        };
        const url = new URL(req.path, 'http://fake');
        const notFound = () => json(res, 404, googleError(404, 'NOT_FOUND', `Not found: ${url.pathname}`));
        if (req.method === 'GET' && /^\/v1(beta)?\/models$/.test(url.pathname)) {
          const token = url.searchParams.get('pageToken');
          const { page, more } = pageAfter(
            models,
            (m) => m,
            token === null ? undefined : Buffer.from(token, 'base64url').toString(),
            Math.min(Number(url.searchParams.get('pageSize') ?? 50), paging.max),
          );
          const last = page.at(-1);
          return json(res, 200, {
            models: page.map(modelResource),
            ...(more && last !== undefined ? { nextPageToken: Buffer.from(last).toString('base64url') } : {}),
          });
        }
        const match =
          /^\/v1(?:beta)?\/models\/([^:/]+)(?::(generateContent|streamGenerateContent|countTokens))?$/.exec(
            url.pathname,
          );
        if (match === null) return notFound();
        const model = decodeURIComponent(match[1] ?? '');
        const action = match[2];
        if (req.method === 'GET' && action === undefined)
          return models.includes(model) ? json(res, 200, modelResource(model)) : notFound();
        if (req.method !== 'POST' || action === undefined) return notFound();
        if (action === 'streamGenerateContent' && url.searchParams.get('alt') !== 'sse') return notFound();
        const request = JSON.parse(req.body) as GenerateRequest;
        if (action === 'countTokens')
          return json(res, 200, {
            totalTokens: PROMPT_TOKENS,
            promptTokensDetails: [{ modality: 'TEXT', tokenCount: PROMPT_TOKENS }],
          });
        const answered = request.contents?.at(-1)?.parts?.find((p) => p.functionResponse !== undefined);
        const words = answerWords(fake.state.words, answered?.functionResponse?.response);
        const tool = fake.state.tool;
        const call =
          tool !== undefined &&
          answered === undefined &&
          request.tools?.some((t) => t.functionDeclarations?.some((f) => f.name === tool.name)) === true
            ? { functionCall: { name: tool.name, args: tool.args } }
            : undefined;
        const total = call === undefined ? words.length : 5;
        const chunk = (parts: unknown[], produced: number) => ({
          candidates: [
            {
              content: { parts, role: 'model' },
              index: 0,
              ...(produced === total ? { finishReason: 'STOP' } : {}),
            },
          ],
          usageMetadata: {
            promptTokenCount: PROMPT_TOKENS,
            candidatesTokenCount: produced,
            totalTokenCount: PROMPT_TOKENS + produced,
          },
          modelVersion: model,
        });
        if (action === 'generateContent')
          return json(res, 200, chunk(call === undefined ? [{ text: words.join('') }] : [call], total));
        await stream(
          res,
          [],
          call === undefined
            ? words.map((word, i) => sse(chunk([{ text: word }], i + 1), undefined, '\r\n'))
            : [sse(chunk([call], total), undefined, '\r\n')],
          [],
        );
      },
    },
    apiKeys,
  );
  return { ...fake, models, paging };
}
