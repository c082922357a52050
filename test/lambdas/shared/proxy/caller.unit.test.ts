/** The key a request presents, held to the one the authorizer checked. */
import { describe, expect, it } from 'vitest';
import { InvalidApiKeyError } from '#shared/errors.ts';
import type { GatewayRequest } from '#shared/http.ts';
import { hashKey, issueKey } from '#shared/keys.ts';
import { presentedKey, requireKey } from '#shared/proxy/caller.ts';

const deps = { keyPrefix: 'sk-tg-', importedKeys: async () => ({}) };

/** A request carrying `headers`, as the authorizer left it. */
function request(headers: Record<string, string>, keyId?: string): GatewayRequest {
  return {
    requestId: 'r',
    method: 'GET',
    resource: '/v1/key',
    path: '/v1/key',
    params: {},
    headers,
    query: {},
    body: undefined,
    auth:
      keyId === undefined ? undefined : { keyId, keyName: 'k', models: [], teamId: undefined, limits: {} },
    signal: new AbortController().signal,
  };
}

describe('presentedKey', () => {
  it('identifies the key without I/O, and is undefined when none is carried', async () => {
    // Prepare
    const issued = issueKey('sk-tg-');

    // Act
    const found = await presentedKey(deps, request({ 'x-api-key': issued.plaintext }));
    const none = await presentedKey(deps, request({}));

    // Assess
    expect(found).toEqual({ keyId: issued.keyId, hash: hashKey(issued.plaintext) });
    expect(none).toBeUndefined();
  });

  it('refuses a carried key that is not one', async () => {
    await expect(presentedKey(deps, request({ authorization: 'Bearer nope' }))).rejects.toBeInstanceOf(
      InvalidApiKeyError,
    );
  });
});

describe('requireKey', () => {
  it("accepts the authorizer's key and refuses another one or none", async () => {
    // Prepare
    const issued = issueKey('sk-tg-');
    const other = issueKey('sk-tg-');
    const carried = { authorization: `Bearer ${issued.plaintext}` };

    // Act / Assess
    await expect(requireKey(deps, request(carried, issued.keyId))).resolves.toMatchObject({
      keyId: issued.keyId,
    });
    await expect(requireKey(deps, request(carried, other.keyId))).rejects.toBeInstanceOf(InvalidApiKeyError);
    await expect(requireKey(deps, request({}, issued.keyId))).rejects.toBeInstanceOf(InvalidApiKeyError);
  });
});
