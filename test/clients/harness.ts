/**
 * What the client tests share: the three wire-faithful upstream fakes registered as providers, a local
 * gateway in this process on DynamoDB Local, and keys to call it with. The SDKs and tools under test come
 * from this folder's own package.json (installed by the root `postinstall`), never from the main install.
 */
import { join } from 'node:path';
import { addProvider } from '../../lambdas/shared/operations/providers.ts';
import type { RunningGateway } from '../../lib/local/gateway.ts';
import { startFakeAnthropic } from '../fakes/anthropic-upstream.ts';
import { startFakeGemini } from '../fakes/gemini-upstream.ts';
import { startFakeOpenAI } from '../fakes/openai-upstream.ts';
import { setupLocalEnv } from '../helpers/local-env.ts';

/** The folder holding the real tools' executables. */
export const CLIENT_BIN = join(import.meta.dirname, 'node_modules', '.bin');

const UPSTREAM_KEYS = { openai: 'sk-up-openai-x1', anthropic: 'sk-ant-up-x1', gemini: 'AIza-up-x1' };

/** Starts the fakes and the gateway, registers the providers and issues a key that may use every model. */
export async function startHarness() {
  const env = await setupLocalEnv();
  const fakes = {
    openai: await startFakeOpenAI(UPSTREAM_KEYS.openai),
    anthropic: await startFakeAnthropic(UPSTREAM_KEYS.anthropic),
    gemini: await startFakeGemini(UPSTREAM_KEYS.gemini),
  };
  // Registered as an operator would, without --models: the catalogues are discovered from the fakes.
  const providers = [
    { name: 'openai', type: 'openai', baseUrl: fakes.openai.baseUrl },
    { name: 'anthropic', type: 'anthropic', baseUrl: fakes.anthropic.url },
    { name: 'gemini', type: 'gemini', baseUrl: fakes.gemini.url },
  ] as const;
  for (const p of providers)
    await addProvider.prepare({ ...p, credential: { secret: UPSTREAM_KEYS[p.name] } })(env.stores);
  const { startGateway } = await import('../../lib/local/gateway.ts');
  const gateway: RunningGateway = await startGateway({ port: 0, authorizerCacheTtlSeconds: 0 });
  const issue = async (input: { models?: string[]; rpm?: number }) =>
    (await env.stores.keys.create({ name: `client-test-${Date.now()}`, ...input })).plaintext;
  return {
    env,
    fakes,
    gateway,
    /** A key for every model. */
    key: await issue({}),
    /** A key limited to these `provider/*` patterns (a 403 elsewhere). */
    scopedKey: (models: string[]) => issue({ models }),
    /** A key allowed one request a minute (a 429 on the second). */
    oneRequestKey: () => issue({ rpm: 1 }),
    async close(): Promise<void> {
      await gateway.close();
      await Promise.all(Object.values(fakes).map((f) => f.close()));
    },
  };
}

export type Harness = Awaited<ReturnType<typeof startHarness>>;
