/**
 * Provider model discovery: `providers add` without `--models` reads the catalogue from the upstream's
 * own list endpoint (every page of it), `--models` overrides, `providers models refresh` reads it again,
 * and an upstream that refuses leaves an empty catalogue with a note saying what to do.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addProvider, refreshModels } from '../../../../lambdas/shared/operations/providers.ts';
import { startFakeAnthropic } from '../../../fakes/anthropic-upstream.ts';
import { startFakeGemini } from '../../../fakes/gemini-upstream.ts';
import { startFakeOpenAI } from '../../../fakes/openai-upstream.ts';
import { setupLocalEnv } from '../../../helpers/local-env.ts';

let env: Awaited<ReturnType<typeof setupLocalEnv>>;
let openai: Awaited<ReturnType<typeof startFakeOpenAI>>;
let anthropic: Awaited<ReturnType<typeof startFakeAnthropic>>;
let gemini: Awaited<ReturnType<typeof startFakeGemini>>;

beforeAll(async () => {
  env = await setupLocalEnv();
  openai = await startFakeOpenAI('sk-o');
  anthropic = await startFakeAnthropic('sk-a');
  gemini = await startFakeGemini('AIza-g');
});

afterAll(async () => {
  await Promise.all([openai, anthropic, gemini].map((f) => f?.close()));
});

const add = (input: Record<string, unknown>) => addProvider.prepare(input)(env.stores);

describe('provider model discovery', () => {
  it('discovers every page of each API’s models list, generation models only for Gemini', async () => {
    // Prepare
    anthropic.paging.max = 2;
    gemini.paging.max = 1;

    // Act
    const o = await add({
      name: 'd-openai',
      type: 'openai',
      baseUrl: openai.baseUrl,
      credential: { secret: 'sk-o' },
    });
    const a = await add({
      name: 'd-anth',
      type: 'anthropic',
      baseUrl: anthropic.url,
      credential: { secret: 'sk-a' },
    });
    const g = await add({
      name: 'd-gem',
      type: 'gemini',
      baseUrl: gemini.url,
      credential: { secret: 'AIza-g' },
    });

    // Assess
    expect(o.models).toEqual(['gpt-4o', 'gpt-4o-mini', 'text-embedding-3-small']);
    expect(a.models).toEqual(['claude-haiku-4.5', 'claude-sonnet-4.6', 'claude-opus-4.5']);
    expect(g.models).toEqual(['gemini-2.5-flash', 'gemini-2.5-pro']);
    expect(anthropic.requests.filter((r) => r.path.startsWith('/v1/models'))).toHaveLength(2);
    expect(gemini.requests.filter((r) => r.path.startsWith('/v1beta/models'))).toHaveLength(3);
    expect((await env.stores.providers.get('d-anth'))?.models).toEqual(a.models);
  });

  it('takes --models over discovery, and refresh reads the list again or sets what it is given', async () => {
    // Act
    const given = await add({
      name: 'd-given',
      type: 'openai',
      baseUrl: openai.baseUrl,
      models: ['gpt-4o'],
      credential: { secret: 'sk-o' },
    });
    openai.models.push('gpt-5');
    const refreshed = await refreshModels.prepare({ name: 'd-given' })(env.stores);
    const set = await refreshModels.prepare({ name: 'd-given', models: ['gpt-5'] })(env.stores);
    openai.models.pop();

    // Assess
    expect(given.models).toEqual(['gpt-4o']);
    expect(refreshed.models).toEqual(['gpt-4o', 'gpt-4o-mini', 'text-embedding-3-small', 'gpt-5']);
    expect(set.models).toEqual(['gpt-5']);
  });

  it('registers with an empty catalogue and a note when the upstream refuses, and refresh then says why', async () => {
    // Act
    const added = await add({
      name: 'd-wrong',
      type: 'anthropic',
      baseUrl: anthropic.url,
      credential: { secret: 'sk-wrong' },
    });
    const refresh = refreshModels.prepare({ name: 'd-wrong' })(env.stores);

    // Assess
    expect(added.models).toEqual([]);
    expect('discovery' in added ? added.discovery : undefined).toBe(
      'the upstream answered 401 to GET /v1/models: check the credential, or give the models with --models, or later: tollgate providers models refresh d-wrong',
    );
    await expect(refresh).rejects.toThrow('the upstream answered 401 to GET /v1/models');
  });
});
