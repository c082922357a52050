/**
 * A fake of the Gemini API (generativelanguage): `x-goog-api-key` auth with Google's error shape,
 * generateContent with `usageMetadata`, and streamGenerateContent with `alt=sse`, framed with CRLF line
 * endings as Google's servers frame it, each chunk carrying cumulative usage.
 */
import { sse, startFakeUpstream } from './upstream-base.ts';

const PROMPT_TOKENS = 9;

const googleError = (code: number, status: string, message: string) => ({ error: { code, message, status } });

/** Starts the fake; it accepts any of `apiKeys`. Its `url` is what an operator registers. */
export async function startFakeGemini(...apiKeys: string[]) {
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
        const match = /^\/v1beta\/models\/([^:/]+):(generateContent|streamGenerateContent)(\?alt=sse)?$/.exec(
          req.path,
        );
        if (match === null) {
          res.writeHead(404, { 'content-type': 'application/json' });
          res.end(JSON.stringify(googleError(404, 'NOT_FOUND', `Not found: ${req.path}`)));
          return;
        }
        const model = decodeURIComponent(match[1] ?? '');
        const words = fake.state.words;
        const chunk = (text: string, produced: number) => ({
          candidates: [
            {
              content: { parts: [{ text }], role: 'model' },
              index: 0,
              ...(produced === words.length ? { finishReason: 'STOP' } : {}),
            },
          ],
          usageMetadata: {
            promptTokenCount: PROMPT_TOKENS,
            candidatesTokenCount: produced,
            totalTokenCount: PROMPT_TOKENS + produced,
          },
          modelVersion: model,
        });
        if (match[2] === 'generateContent') {
          res.writeHead(200, { 'content-type': 'application/json; charset=UTF-8' });
          res.end(JSON.stringify(chunk(words.join(''), words.length)));
          return;
        }
        await stream(
          res,
          [],
          words.map((word, i) => sse(chunk(word, i + 1), undefined, '\r\n')),
          [],
        );
      },
    },
    apiKeys,
  );
  return fake;
}
