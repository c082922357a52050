/** The authorizer's pure parts: key identification, the cacheable policy resource, limits and context. */
import { describe, expect, it } from 'vitest';
import { authContextFrom, effectiveLimits, identifyKey, stageWildcardArn } from '#shared/auth.ts';
import { hashKey, issueKey } from '#shared/keys.ts';
import type { KeyView } from '#shared/store/keys.ts';

const PREFIX = 'sk-tg-';
const noImports = async (): Promise<Record<string, string>> => ({});

describe('identifyKey', () => {
  it('finds a Tollgate key by its embedded id without consulting the imported index', async () => {
    // Prepare
    const issued = issueKey(PREFIX);
    let indexReads = 0;

    // Act
    const found = await identifyKey(issued.plaintext, PREFIX, async () => {
      indexReads += 1;
      return {};
    });

    // Assess
    expect(found).toEqual({ keyId: issued.keyId, hash: hashKey(issued.plaintext) });
    expect(indexReads).toBe(0);
  });

  it('finds an imported key of foreign format through the index of hashes', async () => {
    // Prepare
    const foreign = 'legacy-key-0123456789';

    // Act
    const found = await identifyKey(foreign, PREFIX, async () => ({ [hashKey(foreign)]: 'Imported1234' }));

    // Assess
    expect(found).toEqual({ keyId: 'Imported1234', hash: hashKey(foreign) });
  });

  it('refuses nothing, too long, unknown, and a Tollgate-shaped key with a bad checksum', async () => {
    // Prepare
    const key = issueKey(PREFIX).plaintext;
    // A fixed replacement would equal the real last character one time in 62.
    const typo = `${key.slice(0, -1)}${key.endsWith('x') ? 'y' : 'x'}`;

    // Act
    const results = await Promise.all(
      [undefined, '', 'x'.repeat(513), 'not-a-known-key', typo].map((c) => identifyKey(c, PREFIX, noImports)),
    );

    // Assess
    expect(results).toEqual([undefined, undefined, undefined, undefined, undefined]);
  });
});

describe('stageWildcardArn', () => {
  it('covers every method and path of the stage, so a cached policy allows other routes', () => {
    expect(stageWildcardArn('arn:aws:execute-api:eu-west-1:123:abc/prod/POST/v1/chat/completions')).toBe(
      'arn:aws:execute-api:eu-west-1:123:abc/prod/*/*',
    );
    expect(() => stageWildcardArn('arn:aws:execute-api:eu-west-1:123:abc')).toThrow('malformed methodArn');
  });
});

describe('effectiveLimits', () => {
  it("keeps the key's own limits and split and its team's budget, leaving out what is unset", () => {
    // Prepare: the split's history of counts stays out of the context, which every request carries.
    const key = {
      keyId: 'k',
      rpm: 60,
      monthlyLimitMicros: 5_000_000,
      monthShards: { count: 8, previous: 2, from: '2026-12', ever: [2, 8] },
    } as KeyView;

    // Act / Assess
    expect(
      effectiveLimits(key, {
        budgetMicros: 9_000_000,
        budgetShards: { count: 4, previous: 1, from: '2026-11' },
      }),
    ).toEqual({
      rpm: 60,
      monthlyLimitMicros: 5_000_000,
      keyShards: { count: 8, previous: 2, from: '2026-12' },
      teamBudgetMicros: 9_000_000,
      teamShards: { count: 4, previous: 1, from: '2026-11' },
    });
    expect(effectiveLimits({ keyId: 'k' } as KeyView, undefined)).toEqual({});
  });
});

describe('authContextFrom', () => {
  it("reads back the authorizer's flat context", () => {
    // Prepare
    const context = {
      keyId: 'AbC123xyZ789',
      keyName: 'ci',
      models: '["openai/*"]',
      teamId: '',
      limits: '{"rpm":10}',
      principalId: 'AbC123xyZ789',
    };

    // Act
    const auth = authContextFrom(context);

    // Assess
    expect(auth).toEqual({
      keyId: 'AbC123xyZ789',
      keyName: 'ci',
      models: ['openai/*'],
      teamId: undefined,
      limits: { rpm: 10 },
    });
  });

  it('is undefined without an authorizer, or with a context that is not ours', () => {
    expect(authContextFrom(null)).toBeUndefined();
    expect(authContextFrom({ keyId: 'a', keyName: 'b', models: '{"not":"a list"}' })).toBeUndefined();
    expect(authContextFrom({ principalId: 'x' })).toBeUndefined();
  });
});
