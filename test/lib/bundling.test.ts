/**
 * The Lambda bundles, built with the stack's own esbuild options, carry no default-credential-chain code:
 * on Lambda the only credentials are in the environment (see lambdas/shared/env-credentials.ts).
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildBundle, credentialChainIn } from '../../bench/bundles.ts';
import type { LambdaName } from '../../lib/bundling.ts';

const out = mkdtempSync(join(tmpdir(), 'tollgate-bundle-contents-'));

describe('Lambda bundles', () => {
  for (const name of ['authorizer', 'proxy'] as LambdaName[]) {
    it(`${name}: no SSO, STS, process, container or IMDS credential provider`, async () => {
      const text = readFileSync(await buildBundle(name, out), 'utf8');
      expect(credentialChainIn(text)).toEqual([]);
      // The environment provider is what remains.
      expect(text).toContain('AWS_SECRET_ACCESS_KEY');
    });
  }

  it('the markers do find the chain when it is bundled', () => {
    const chain = readFileSync(
      join(import.meta.dirname, '../../node_modules/@aws-sdk/credential-provider-sso/dist-cjs/index.js'),
      'utf8',
    );
    expect(credentialChainIn(chain)).toContain('sso');
  });
});
