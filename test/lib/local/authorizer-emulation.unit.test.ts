import type { APIGatewayAuthorizerResult, APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { stageWildcardArn } from '#shared/auth.ts';
import { AuthorizerEmulator, arnMatches, evaluatePolicy } from '../../../lib/local/authorizer-emulation.ts';
import { localContext } from '../../../lib/local/lambda-runtime.ts';

const ARN_A = 'arn:aws:execute-api:local:000000000000:local/local/POST/v1/chat/completions';
const ARN_B = 'arn:aws:execute-api:local:000000000000:local/local/POST/v1/messages';

function policy(resource: string, effect: 'Allow' | 'Deny' = 'Allow'): APIGatewayAuthorizerResult {
  return {
    principalId: 'p',
    policyDocument: {
      Version: '2012-10-17',
      Statement: [{ Action: 'execute-api:Invoke', Effect: effect, Resource: resource }],
    },
    context: { keyId: 'k', n: 1 },
  };
}

function event(methodArn: string, authorization?: string): APIGatewayRequestAuthorizerEvent {
  return {
    type: 'REQUEST',
    methodArn,
    headers: authorization === undefined ? {} : { Authorization: authorization },
  } as never;
}

describe('policy evaluation', () => {
  it('matches IAM resource globs', () => {
    expect(arnMatches('arn:x/local/*/*', 'arn:x/local/POST/v1/chat')).toBe(true);
    expect(arnMatches('arn:x/local/GET/*', 'arn:x/local/POST/v1/chat')).toBe(false);
    expect(arnMatches('arn:x/l?cal/*', 'arn:x/local/POST')).toBe(true);
  });

  it('lets an explicit Deny win and denies without an Allow', () => {
    const both: APIGatewayAuthorizerResult = {
      principalId: 'p',
      policyDocument: {
        Version: '2012-10-17',
        Statement: [
          { Action: 'execute-api:Invoke', Effect: 'Allow', Resource: '*' },
          { Action: 'execute-api:Invoke', Effect: 'Deny', Resource: ARN_A },
        ],
      },
    };
    expect(evaluatePolicy(both, ARN_A)).toBe('deny');
    expect(evaluatePolicy(both, ARN_B)).toBe('allow');
    expect(evaluatePolicy(policy(ARN_B), ARN_A)).toBe('deny');
  });

  it("covers every route of the stage with the authorizer's wildcard", () => {
    expect(evaluatePolicy(policy(stageWildcardArn(ARN_A)), ARN_B)).toBe('allow');
  });
});

describe('authorizer caching as API Gateway does it', () => {
  it('401s without invoking when the identity source is missing', async () => {
    const emulator = new AuthorizerEmulator(async () => policy('*'), {
      identityHeaders: ['authorization'],
      ttlSeconds: 300,
    });
    expect(await emulator.decide(event(ARN_A), localContext('a', '1'))).toEqual({ effect: 'unauthorized' });
    expect(emulator.invocations).toBe(0);
  });

  it('re-evaluates a cached policy for another route, so a narrow policy denies it', async () => {
    // Prepare: an authorizer that (wrongly) allows only the method it was called for.
    const emulator = new AuthorizerEmulator(async (e) => policy(e.methodArn), {
      identityHeaders: ['authorization'],
      ttlSeconds: 300,
    });

    // Act
    const first = await emulator.decide(event(ARN_A, 'Bearer x'), localContext('a', '1'));
    const second = await emulator.decide(event(ARN_B, 'Bearer x'), localContext('a', '2'));

    // Assess
    expect(first).toMatchObject({ effect: 'allow', context: { keyId: 'k', n: '1' } });
    expect(second).toEqual({ effect: 'access_denied' });
    expect(emulator.invocations).toBe(1);
  });

  it('invokes on every request when the TTL is 0, and maps errors', async () => {
    let calls = 0;
    const emulator = new AuthorizerEmulator(
      async () => {
        calls += 1;
        if (calls === 2) throw new Error('Unauthorized');
        if (calls === 3) throw new Error('database down');
        return policy('*');
      },
      { identityHeaders: ['authorization'], ttlSeconds: 0 },
    );
    expect((await emulator.decide(event(ARN_A, 'Bearer x'), localContext('a', '1'))).effect).toBe('allow');
    expect((await emulator.decide(event(ARN_A, 'Bearer x'), localContext('a', '2'))).effect).toBe(
      'unauthorized',
    );
    expect((await emulator.decide(event(ARN_A, 'Bearer x'), localContext('a', '3'))).effect).toBe('failure');
  });
});

describe('authorizer context as API Gateway takes it', () => {
  it.each([
    ['an object', { keyId: 'k', scope: { models: ['a'] } }],
    ['an array', { keyId: 'k', models: ['a', 'b'] }],
  ])('answers an authorizer configuration error (500) for %s in the context', async (_, context) => {
    // Prepare
    const emulator = new AuthorizerEmulator(async () => ({ ...policy(ARN_A), context: context as never }), {
      identityHeaders: ['authorization'],
      ttlSeconds: 0,
    });

    // Act
    const decision = await emulator.decide(event(ARN_A, 'Bearer x'), localContext('a', 'r'));

    // Assess
    expect(decision).toEqual({ effect: 'configuration_error' });
  });

  it('passes strings, numbers and booleans on, as strings', async () => {
    // Prepare
    const emulator = new AuthorizerEmulator(
      async () => ({ ...policy(ARN_A), context: { keyId: 'k', n: 1, on: true } }),
      { identityHeaders: ['authorization'], ttlSeconds: 0 },
    );

    // Act
    const decision = await emulator.decide(event(ARN_A, 'Bearer x'), localContext('a', 'r'));

    // Assess
    expect(decision).toEqual({
      effect: 'allow',
      principalId: 'p',
      context: { keyId: 'k', n: '1', on: 'true' },
    });
  });
});
