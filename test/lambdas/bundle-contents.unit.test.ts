/**
 * What each Lambda bundle contains, from esbuild's metafile with the stack's own bundle options: only the
 * repository modules its handler reaches, and none of another function's domain.
 */

import { relative } from 'node:path';
import { build, type Metafile } from 'esbuild';
import { beforeAll, describe, expect, it } from 'vitest';
import { BUNDLE_ALIASES, esbuildOptions, LAMBDA_ENTRIES, type LambdaName } from '../../lib/bundling.ts';
import { importGraph, ROOT, runtimeReach } from '../helpers/source-graph.ts';

/** Key and team writes, with their audit stamps and transactions: the request path only reads them. */
const KEY_AND_TEAM_WRITES = [
  'lambdas/shared/store/keys.ts',
  'lambdas/shared/store/teams.ts',
  'lambdas/shared/store/team-mark.ts',
  'lambdas/shared/store/stores.ts',
];

/** The SDK's document client: the CLI's way to DynamoDB, never a function's (they use the lean client). */
const SDK_DOCUMENT_CLIENT = 'lambdas/shared/store/sdk-db.ts';

/** Folders of other functions' domains that a bundle must not pull in. */
const FORBIDDEN: Record<LambdaName, readonly string[]> = {
  authorizer: [
    SDK_DOCUMENT_CLIENT,
    ...KEY_AND_TEAM_WRITES,
    'lambdas/shared/proxy/',
    'lambdas/shared/admin/',
    'lambdas/shared/audit/',
    'lambdas/shared/providers/',
    'lambdas/shared/crypto/',
    'lambdas/proxy/',
    'lambdas/admin/',
    'lambdas/audit/',
  ],
  proxy: [
    SDK_DOCUMENT_CLIENT,
    ...KEY_AND_TEAM_WRITES,
    // Provider, credential, price and alias changes: the proxy reads providers (ProviderReader).
    'lambdas/shared/store/providers.ts',
    'lambdas/shared/admin/',
    'lambdas/shared/audit/',
    'lambdas/admin/',
    'lambdas/audit/',
    'lambdas/authorizer/',
  ],
  audit: [
    SDK_DOCUMENT_CLIENT,
    'lambdas/shared/proxy/',
    'lambdas/shared/admin/',
    'lambdas/proxy/',
    'lambdas/admin/',
    'lambdas/authorizer/',
  ],
  admin: [
    SDK_DOCUMENT_CLIENT,
    'lambdas/shared/proxy/index.ts',
    'lambdas/shared/proxy/dispatch.ts',
    'lambdas/shared/proxy/upstream.ts',
    'lambdas/proxy/',
    'lambdas/audit/',
    'lambdas/authorizer/',
  ],
};

/**
 * The AWS SDK service clients each bundle may carry. DynamoDB everywhere, and on the request path KMS,
 * Secrets Manager and Parameter Store, are called through the lean JSON caller
 * (lambdas/shared/sdk-lean/aws-json.ts, dynamodb.ts), whose clients would each add every operation's
 * schema and error class (DynamoDB's with the smithy core, about 120 KiB of each bundle).
 */
const SDK_CLIENTS: Record<LambdaName, readonly string[]> = {
  authorizer: [],
  proxy: [],
  audit: ['@aws-sdk/client-kms', '@aws-sdk/client-s3', '@aws-sdk/client-sqs'],
  admin: ['@aws-sdk/client-kms', '@aws-sdk/client-s3'],
};

const NAMES = Object.keys(LAMBDA_ENTRIES) as LambdaName[];
const bundled = new Map<LambdaName, string[]>();
const clients = new Map<LambdaName, string[]>();

/** The SDK service client packages that put bytes into the bundle. */
function sdkClients(metafile: Metafile): string[] {
  const output = Object.values(metafile.outputs)[0];
  const packages = Object.entries(output?.inputs ?? {})
    .filter(([, input]) => input.bytesInOutput > 0)
    .map(([path]) => /node_modules\/(@aws-sdk\/client-[^/]+)\//.exec(path)?.[1])
    .filter((name): name is string => name !== undefined);
  return [...new Set(packages)].sort();
}

/** The repository modules that put bytes into the bundle. */
function repositoryModules(metafile: Metafile): string[] {
  const output = Object.values(metafile.outputs)[0];
  return Object.entries(output?.inputs ?? {})
    .filter(([path, input]) => !path.includes('node_modules/') && input.bytesInOutput > 0)
    .map(([path]) => path)
    .sort();
}

beforeAll(async () => {
  for (const name of NAMES) {
    const result = await build({
      ...esbuildOptions(name, `${ROOT}.bundle-check/${name}.mjs`),
      absWorkingDir: ROOT,
      metafile: true,
      write: false,
    });
    bundled.set(name, repositoryModules(result.metafile));
    clients.set(name, sdkClients(result.metafile));
  }
});

describe.each(NAMES)('the %s bundle', (name) => {
  it('contains only repository modules its handler reaches through run-time imports', () => {
    // Prepare
    const handler = `lambdas/${name}/handler.ts`;
    const graph = importGraph();
    const reach = runtimeReach(graph, handler);
    // A module the bundle options put in place of a dependency (BUNDLE_ALIASES) is reached through that dependency.
    for (const replacement of Object.values(BUNDLE_ALIASES[name])) {
      for (const module of runtimeReach(graph, relative(ROOT, replacement))) reach.add(module);
    }

    // Act
    const modules = bundled.get(name) ?? [];

    // Assess
    expect(modules).toContain(handler);
    expect(modules.filter((m) => !reach.has(m))).toEqual([]);
  });

  it("contains none of another function's domain", () => {
    const modules = bundled.get(name) ?? [];
    const foreign = modules.filter((m) => FORBIDDEN[name].some((prefix) => m.startsWith(prefix)));
    expect(
      foreign.map(
        (m) =>
          `${m} is in the ${name} bundle: find the import that reaches it (esbuild --metafile) and cut it`,
      ),
    ).toEqual([]);
  });

  it('carries only the SDK service clients it calls through the SDK', () => {
    expect(clients.get(name)).toEqual(SDK_CLIENTS[name]);
  });
});
