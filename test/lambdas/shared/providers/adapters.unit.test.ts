/**
 * The provider adapters as data plus pure functions: upstream paths, credential headers, rate-limit
 * recognition and usage, from the bodies and stream events each upstream really sends.
 */
import { describe, expect, it } from 'vitest';
import { adapterFor, apiOf, isProviderType, PROVIDERS } from '#shared/providers/index.ts';
import type { StreamState } from '#shared/providers/types.ts';
import { streamMeter } from '#shared/proxy/stream.ts';

/** A fresh stream state, as the proxy starts each stream with. */
function state(hideUsageChunk = false): StreamState {
  return { events: 0, contentEvents: 0, usage: undefined, hideUsageChunk };
}

describe('the registry', () => {
  it('knows each type and the API it speaks', () => {
    expect(isProviderType('openai-compatible')).toBe(true);
    expect(isProviderType('toString')).toBe(false);
    expect(apiOf('openai-compatible')).toBe('openai');
    expect(apiOf('anthropic')).toBe('anthropic');
    expect(apiOf('gemini')).toBe('gemini');
    expect(adapterFor('openai')).toBe(PROVIDERS.openai);
  });
});

describe('openai', () => {
  const adapter = adapterFor('openai');

  it('serves its operations under the base URL and carries the key as a bearer token', () => {
    expect(adapter.path('chatCompletions', 'gpt-4o')).toBe('/chat/completions');
    expect(adapter.path('messages', 'gpt-4o')).toBeUndefined();
    expect(adapter.authHeaders('k')).toEqual({ authorization: 'Bearer k' });
  });

  it('recognises rate limits and exhausted quota, not other 4xx', () => {
    expect(adapter.isRateLimited(429, '')).toBe(true);
    expect(adapter.isRateLimited(403, '{"error":{"code":"insufficient_quota"}}')).toBe(true);
    expect(adapter.isRateLimited(400, '{"error":{"code":"invalid_value"}}')).toBe(false);
  });

  it('reads chat and Responses API usage from whole answers', () => {
    expect(adapter.usageFromBody({ usage: { prompt_tokens: 3, completion_tokens: 4 } })).toEqual({
      inputTokens: 3,
      outputTokens: 4,
    });
    expect(adapter.usageFromBody({ usage: { input_tokens: 5, output_tokens: 6 } })).toEqual({
      inputTokens: 5,
      outputTokens: 6,
    });
    expect(adapter.usageFromBody({})).toBeUndefined();
  });

  it('counts content events, records usage and drops the usage chunk the gateway asked for', () => {
    // Prepare
    const streamState = state(true);
    const meter = streamMeter(adapter, streamState);

    // Act
    const content = meter.event({ choices: [{ delta: { content: 'Hi' } }] });
    const usage = meter.event({ choices: [], usage: { prompt_tokens: 7, completion_tokens: 1 } });
    const done = meter.event(undefined);

    // Assess
    expect([content, usage, done]).toEqual([true, false, true]);
    expect(streamState.contentEvents).toBe(1);
    expect(streamState.usage).toEqual({ inputTokens: 7, outputTokens: 1 });
  });
});

describe('anthropic', () => {
  const adapter = adapterFor('anthropic');

  it('carries the key in x-api-key and forwards the API version with its default', () => {
    expect(adapter.authHeaders('k')).toEqual({ 'x-api-key': 'k' });
    expect(adapter.forwardHeaders['anthropic-version']).toBe('2023-06-01');
    expect(adapter.path('countTokens', 'claude')).toBe('/v1/messages/count_tokens');
  });

  it('counts prompt-cache reads and writes as input', () => {
    expect(
      adapter.usageFromBody({
        usage: {
          input_tokens: 10,
          cache_creation_input_tokens: 5,
          cache_read_input_tokens: 2,
          output_tokens: 3,
        },
      }),
    ).toEqual({ inputTokens: 17, outputTokens: 3 });
  });

  it('takes input from message_start and the cumulative output from message_delta', () => {
    // Prepare
    const streamState = state();
    const meter = streamMeter(adapter, streamState);

    // Act
    meter.event({ type: 'message_start', message: { usage: { input_tokens: 9, output_tokens: 1 } } });
    meter.event({ type: 'content_block_delta', delta: { text: 'Hi' } });
    const kept = meter.event({ type: 'message_delta', usage: { output_tokens: 12 } });

    // Assess
    expect(kept).toBe(true);
    expect(streamState.usage).toEqual({ inputTokens: 9, outputTokens: 12 });
    expect(streamState.contentEvents).toBe(1);
  });

  it('recognises its rate-limit error body', () => {
    expect(adapter.isRateLimited(529, '{"type":"error","error":{"type":"rate_limit_error"}}')).toBe(true);
    expect(adapter.isRateLimited(529, '{"type":"error","error":{"type":"overloaded_error"}}')).toBe(false);
  });
});

describe('gemini', () => {
  const adapter = adapterFor('gemini');

  it('puts the encoded model in the path and streams with alt=sse', () => {
    expect(adapter.path('generateContent', 'gemini-2.5-flash')).toBe(
      '/v1beta/models/gemini-2.5-flash:generateContent',
    );
    expect(adapter.path('streamGenerateContent', 'a/b')).toBe(
      '/v1beta/models/a%2Fb:streamGenerateContent?alt=sse',
    );
    expect(adapter.authHeaders('k')).toEqual({ 'x-goog-api-key': 'k' });
  });

  it('bills thinking tokens as output, and the last cumulative usage of a stream wins', () => {
    // Prepare
    const streamState = state();
    const meter = streamMeter(adapter, streamState);
    const chunk = (out: number) => ({
      candidates: [{}],
      usageMetadata: { promptTokenCount: 4, candidatesTokenCount: out, thoughtsTokenCount: 2 },
    });

    // Act
    meter.event(chunk(1));
    meter.event(chunk(5));

    // Assess
    expect(streamState.usage).toEqual({ inputTokens: 4, outputTokens: 7 });
    expect(streamState.contentEvents).toBe(2);
    expect(adapter.isRateLimited(429, '')).toBe(true);
    expect(adapter.isRateLimited(400, '{"error":{"status":"INVALID_ARGUMENT"}}')).toBe(false);
  });
});
