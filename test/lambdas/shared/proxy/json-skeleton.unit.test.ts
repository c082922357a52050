/**
 * The JSON skeleton reads what JSON.parse reads, fed in any pieces, refuses what it refuses, and keeps a
 * bounded part of a huge text: its strings cut short, its numbers and structure whole.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { JsonSkeleton, SKELETON_LIMITS } from '#shared/proxy/json-skeleton.ts';

/** `text` cut at `cuts` (positions, any order), fed piece by piece. */
function skeletonOf(text: string, cuts: number[] = []): JsonSkeleton {
  const skeleton = new JsonSkeleton();
  let at = 0;
  for (const cut of [...cuts.map((c) => c % (text.length + 1))].sort((a, b) => a - b)) {
    skeleton.feed(text.slice(at, cut));
    at = cut;
  }
  skeleton.feed(text.slice(at));
  return skeleton;
}

function parsed(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

const cuts = fc.array(fc.nat(), { maxLength: 8 });

describe('JsonSkeleton', () => {
  it('reads any JSON value as JSON.parse does, however the text is cut', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.boolean(), cuts, (value, pretty, at) => {
        const text = JSON.stringify(value, null, pretty ? 2 : undefined);
        expect(skeletonOf(text, at).end()).toEqual(JSON.parse(text));
      }),
    );
  });

  it('reads unicode and escaped strings as JSON.parse does', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ unit: 'binary' })), cuts, (strings, at) => {
        const text = JSON.stringify({ strings });
        expect(skeletonOf(text, at).end()).toEqual({ strings });
      }),
    );
    expect(skeletonOf('"\\u00e9\\n\\/\\""', [3, 5]).end()).toBe('é\n/"');
  });

  it('refuses exactly what JSON.parse refuses', () => {
    const nearJson = fc
      .tuple(
        fc.jsonValue(),
        fc.nat(),
        fc.constantFrom('', ',', '"', '}', ']', '0', '-', '.', 'e', '\\', '\n', 'x'),
      )
      .map(([value, at, insert]) => {
        const text = JSON.stringify(value);
        const i = at % (text.length + 1);
        return text.slice(0, i) + insert + text.slice(i + (insert === '' ? 1 : 0));
      });
    fc.assert(
      fc.property(fc.oneof(nearJson, fc.string()), cuts, (text, at) => {
        expect(skeletonOf(text, at).end()).toEqual(parsed(text));
      }),
      { numRuns: 2000 },
    );
    for (const text of ['', '01', '1.', '-', '1e', '[1,]', '{"a":1,}', 'nul', '"\t"', '[DONE]', '"\\x"'])
      expect(skeletonOf(text).end(), text).toBeUndefined();
  });

  it('keeps __proto__ as an own member, as JSON.parse does', () => {
    const value = skeletonOf('{"__proto__":{"polluted":1}}').end() as Record<string, unknown>;
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
    expect(Object.hasOwn(value, '__proto__')).toBe(true);
  });

  it('cuts a huge string to its beginning but keeps the numbers after it whole', () => {
    // Prepare: a Gemini chunk of 2 MB of text, with its usage after the text.
    const text = JSON.stringify({
      candidates: [{ content: { parts: [{ text: 'y'.repeat(2_000_000) }] } }],
      usageMetadata: { promptTokenCount: 3, candidatesTokenCount: 250 },
    });
    const pieces = Array.from({ length: Math.ceil(text.length / 65_536) }, (_, i) => i * 65_536);

    // Act
    const skeleton = skeletonOf(text, pieces);
    const value = skeleton.end() as {
      candidates: Array<{ content: { parts: Array<{ text: string }> } }>;
      usageMetadata: unknown;
    };

    // Assess
    expect(value.candidates[0]?.content.parts[0]?.text).toBe('y'.repeat(SKELETON_LIMITS.stringChars));
    expect(value.usageMetadata).toEqual({ promptTokenCount: 3, candidatesTokenCount: 250 });
    expect(skeleton.kept).toBeLessThan(SKELETON_LIMITS.stringChars + 100);
  });

  it('keeps no more than its weight of a text of many values', () => {
    // Prepare
    const text = JSON.stringify({ logprobs: Array.from({ length: 50_000 }, (_, i) => `token ${i}`), n: 1 });

    // Act
    const skeleton = skeletonOf(text, [100_000, 200_000]);
    const value = skeleton.end() as { logprobs: string[] };

    // Assess: what it keeps is a beginning of the list, and the text still reads as whole JSON.
    expect(skeleton.kept).toBeLessThanOrEqual(SKELETON_LIMITS.weight);
    expect(value.logprobs.length).toBeLessThan(50_000);
    expect(value.logprobs.slice(0, 2)).toEqual(['token 0', 'token 1']);
  });

  it('gives what was read of a cut text: open containers and the beginning of a string', () => {
    expect(skeletonOf('{"choices":[{"delta":{"content":"Hel').partial()).toEqual({
      choices: [{ delta: { content: 'Hel' } }],
    });
    // A number may have lost digits, an empty string prefix says nothing: both are left out.
    expect(skeletonOf('{"usage":{"output_tokens":12').partial()).toEqual({ usage: {} });
    expect(skeletonOf('{"content":"').partial()).toEqual({});
  });
});
