/**
 * The Lambda bundles, built with the stack's own esbuild options, carry no default-credential-chain code
 * (on Lambda the only credentials are in the environment: lambdas/shared/sdk-lean/credential-provider.ts),
 * and the request path's two carry neither the SDK's event-stream codec nor its endpoint-discovery cache:
 * they carry no SDK service client at all (lambdas/shared/sdk-lean/).
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildBundle, credentialChainIn, leftOutIn } from '../../bench/bundles.ts';
import type { LambdaName } from '../../lib/bundling.ts';

const out = mkdtempSync(join(tmpdir(), 'tollgate-bundle-contents-'));
const text = new Map<LambdaName, string>();
const NAMES: LambdaName[] = ['authorizer', 'proxy', 'audit'];
const modules = join(import.meta.dirname, '../../node_modules');

beforeAll(async () => {
  for (const name of NAMES) text.set(name, readFileSync(await buildBundle(name, out), 'utf8'));
});

describe('Lambda bundles', () => {
  for (const name of ['authorizer', 'proxy'] as LambdaName[]) {
    it(`${name}: no SSO, STS, process, container or IMDS credential provider`, () => {
      const bundle = text.get(name) ?? '';
      expect(credentialChainIn(bundle)).toEqual([]);
      // The environment provider is what remains.
      expect(bundle).toContain('AWS_SECRET_ACCESS_KEY');
    });

    it(`${name}: no event-stream codec and no endpoint-discovery cache`, () => {
      const bundle = text.get(name) ?? '';
      expect(leftOutIn(bundle)).toEqual([]);
    });
  }

  it('audit: keeps the event-stream codec its S3 client resolves when built', () => {
    expect(leftOutIn(text.get('audit') ?? '')).toContain('eventStreams');
  });

  it('the markers do find what they look for when it is bundled', () => {
    const read = (path: string) => readFileSync(join(modules, path), 'utf8');
    expect(credentialChainIn(read('@aws-sdk/credential-provider-sso/dist-cjs/index.js'))).toContain('sso');
    expect(
      leftOutIn(
        read(
          '@smithy/core/dist-es/submodules/event-streams/eventstream-serde-universal/getUnmarshalledStream.js',
        ),
      ),
    ).toEqual(['eventStreams']);
    expect(
      leftOutIn(read('@aws-sdk/middleware-endpoint-discovery/dist-es/resolveEndpointDiscoveryConfig.js')),
    ).toEqual(['endpointCache']);
  });
});
