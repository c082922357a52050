/** Model slugs, key scopes and the resolution of what a client named into provider targets. */
import { describe, expect, it } from 'vitest';
import { ModelNotFoundError } from '#shared/errors.ts';
import type { ProviderSource } from '#shared/proxy/context.ts';
import { modelAllowed, parseSlug, targetsFor } from '#shared/proxy/targets.ts';
import type { Alias, ProviderView } from '#shared/store/providers.ts';

/** A provider source over fixed data: what the provider store would hold. */
function source(
  providers: Array<Pick<ProviderView, 'provider' | 'type'>>,
  aliases: Alias[] = [],
): ProviderSource {
  return {
    resolve: async () => undefined,
    list: async () => providers as ProviderView[],
    listAliases: async () => aliases,
  };
}

describe('parseSlug', () => {
  it('splits at the first slash, keeping slashes of the upstream id', () => {
    expect(parseSlug('openai/gpt-4o')).toEqual({ provider: 'openai', model: 'gpt-4o' });
    expect(parseSlug('groq/meta-llama/llama-4')).toEqual({ provider: 'groq', model: 'meta-llama/llama-4' });
  });

  it('refuses a bare id, a leading slash and a trailing slash', () => {
    expect(parseSlug('gpt-4o')).toBeUndefined();
    expect(parseSlug('/gpt-4o')).toBeUndefined();
    expect(parseSlug('openai/')).toBeUndefined();
  });
});

describe('modelAllowed', () => {
  const slug = { provider: 'openai', model: 'gpt-4o' };

  it('allows everything with an empty scope or *', () => {
    expect(modelAllowed([], slug)).toBe(true);
    expect(modelAllowed(['*'], slug)).toBe(true);
  });

  it('allows the exact slug, provider/* and the bare provider name', () => {
    expect(modelAllowed(['openai/gpt-4o'], slug)).toBe(true);
    expect(modelAllowed(['openai/*'], slug)).toBe(true);
    expect(modelAllowed(['openai'], slug)).toBe(true);
  });

  it('refuses other models and other providers, prefixes included', () => {
    expect(modelAllowed(['openai/gpt-4o-mini'], slug)).toBe(false);
    expect(modelAllowed(['anthropic/*', 'open'], slug)).toBe(false);
    expect(modelAllowed(['openai/gpt'], slug)).toBe(false);
  });
});

describe('targetsFor', () => {
  it('takes a slug as it is, without reading the providers', async () => {
    // Prepare
    const providers = source([]);

    // Act
    const targets = await targetsFor(providers, 'openai/gpt-4o', 'openai');

    // Assess
    expect(targets).toEqual([{ provider: 'openai', model: 'gpt-4o' }]);
  });

  it('expands an alias into its targets, in order, dropping any that are not slugs', async () => {
    // Prepare
    const providers = source(
      [],
      [{ name: 'fast', targets: ['groq/llama', 'broken', 'openai/gpt-4o-mini'] } as Alias],
    );

    // Act
    const targets = await targetsFor(providers, 'fast', 'openai');

    // Assess
    expect(targets).toEqual([
      { provider: 'groq', model: 'llama' },
      { provider: 'openai', model: 'gpt-4o-mini' },
    ]);
  });

  it('sends a bare id from an Anthropic or Gemini client to the first provider speaking that API', async () => {
    // Prepare
    const providers = source([
      { provider: 'oa', type: 'openai' },
      { provider: 'claude', type: 'anthropic' },
      { provider: 'google', type: 'gemini' },
    ]);

    // Act
    const anthropic = await targetsFor(providers, 'claude-sonnet-4', 'anthropic');
    const gemini = await targetsFor(providers, 'gemini-2.5-flash', 'gemini');

    // Assess
    expect(anthropic).toEqual([{ provider: 'claude', model: 'claude-sonnet-4' }]);
    expect(gemini).toEqual([{ provider: 'google', model: 'gemini-2.5-flash' }]);
  });

  it('refuses a bare id from an OpenAI client, naming the slug form', async () => {
    // Prepare
    const providers = source([{ provider: 'oa', type: 'openai' }]);

    // Act
    const attempt = targetsFor(providers, 'gpt-4o', 'openai');

    // Assess
    await expect(attempt).rejects.toBeInstanceOf(ModelNotFoundError);
    await expect(attempt).rejects.toThrow("'provider/model' slug");
  });
});
