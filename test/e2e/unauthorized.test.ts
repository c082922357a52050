/**
 * One 401 body for every refused key, whatever refused it, through the local gateway: the authorizer's
 * refusal (API Gateway's UNAUTHORIZED response), the proxy's own check of a key revoked while the
 * authorizer's Allow is cached (OpenAI routes, cache 300 s), and the proxy's check on an optional-key
 * route — per API family, byte for byte.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningGateway } from '../../lib/local/gateway.ts';
import type { setupLocalEnv } from '../helpers/local-env.ts';

let env: Awaited<ReturnType<typeof setupLocalEnv>>;
let gateway: RunningGateway;

/** A request of each API family, with the key in that family's carrier. */
const FAMILIES = {
  openai: (key: string) => ({
    path: '/v1/chat/completions',
    headers: { authorization: `Bearer ${key}` },
    body: { model: 'openai/gpt-4o', messages: [{ role: 'user', content: 'Hi' }] },
  }),
  anthropic: (key: string) => ({
    path: '/v1/messages',
    headers: { 'x-api-key': key },
    body: { model: 'claude-x', max_tokens: 8, messages: [{ role: 'user', content: 'Hi' }] },
  }),
  gemini: (key: string) => ({
    path: '/v1beta/models/gemini-x:generateContent',
    headers: { 'x-goog-api-key': key },
    body: { contents: [{ parts: [{ text: 'Hi' }] }] },
  }),
} as const;

async function refusal(
  family: keyof typeof FAMILIES,
  key: string,
): Promise<{ status: number; type: string; body: string }> {
  const request = FAMILIES[family](key);
  const response = await fetch(`${gateway.url}${request.path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...request.headers },
    body: JSON.stringify(request.body),
  });
  return {
    status: response.status,
    type: response.headers.get('content-type') ?? '',
    body: await response.text(),
  };
}

/** The body with its request id (which differs by request, as API Gateway's own does) set aside. */
function withoutRequestId(body: string): string {
  const { request_id: requestId, ...rest } = JSON.parse(body) as Record<string, unknown>;
  expect(typeof requestId).toBe('string');
  return JSON.stringify(rest);
}

beforeAll(async () => {
  const { setupLocalEnv } = await import('../helpers/local-env.ts');
  env = await setupLocalEnv();
  const { startGateway } = await import('../../lib/local/gateway.ts');
  gateway = await startGateway({ port: 0, authorizerCacheTtlSeconds: 300 });
});

afterAll(async () => {
  await gateway?.close();
});

describe('one 401 body', () => {
  it.each(Object.keys(FAMILIES) as Array<keyof typeof FAMILIES>)(
    'is the same for every refused key on %s routes, whoever refused it',
    async (family) => {
      // Prepare: a key the authorizer allowed (and, on OpenAI routes, cached), then disabled.
      const revoked = await env.stores.keys.create({ name: `revoked-${family}` });
      await refusal(family, revoked.plaintext);
      await env.stores.keys.setStatus(revoked.key.keyId, 'disabled');
      const deleted = await env.stores.keys.create({ name: `deleted-${family}` });
      await env.stores.keys.delete(deleted.key.keyId);

      // Act
      const answers = [
        await refusal(family, revoked.plaintext),
        await refusal(family, deleted.plaintext),
        await refusal(family, 'sk-tg-AAAAAAAAAAAA_notachecksummedkey'),
        await refusal(family, 'not-a-key'),
      ];
      const models = await fetch(`${gateway.url}/v1/models`, {
        headers: { authorization: `Bearer ${revoked.plaintext}` },
      });
      answers.push({
        status: models.status,
        type: models.headers.get('content-type') ?? '',
        body: await models.text(),
      });

      // Assess
      expect(answers.map((a) => a.status)).toEqual([401, 401, 401, 401, 401]);
      expect(new Set(answers.map((a) => withoutRequestId(a.body))).size).toBe(1);
      expect(new Set(answers.map((a) => a.type)).size).toBe(1);
      expect(JSON.parse(answers[0]?.body ?? '')).toMatchObject({
        error: { code: 'invalid_api_key', message: expect.any(String) },
      });
    },
  );

  it('is the same across the families', async () => {
    // Act
    const bodies = await Promise.all(
      (Object.keys(FAMILIES) as Array<keyof typeof FAMILIES>).map(async (f) =>
        withoutRequestId((await refusal(f, 'x')).body),
      ),
    );

    // Assess
    expect(new Set(bodies).size).toBe(1);
  });
});
