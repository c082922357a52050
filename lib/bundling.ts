/**
 * How the Lambda bundles are built. The stack passes these options to `NodejsFunction`; the benchmark and
 * the bundle tests pass the same ones to esbuild directly, so what is measured and tested is what ships.
 */
import { fileURLToPath } from 'node:url';
import type { BuildOptions } from 'esbuild';

/** Entry files of the Lambda functions, by function. */
export const LAMBDA_ENTRIES = {
  authorizer: fileURLToPath(new URL('../lambdas/authorizer/handler.ts', import.meta.url)),
  proxy: fileURLToPath(new URL('../lambdas/proxy/handler.ts', import.meta.url)),
  audit: fileURLToPath(new URL('../lambdas/audit/handler.ts', import.meta.url)),
  admin: fileURLToPath(new URL('../lambdas/admin/handler.ts', import.meta.url)),
} as const;

export type LambdaName = keyof typeof LAMBDA_ENTRIES;

export const BUNDLE_TARGET = 'node24';
export const BUNDLE_MAIN_FIELDS = ['module', 'main'];
/** ESM bundles still contain CommonJS dependencies that call `require`. */
export const BUNDLE_BANNER =
  "import { createRequire as __tgCreateRequire } from 'node:module'; const require = __tgCreateRequire(import.meta.url);";

const lean = (file: string): string =>
  fileURLToPath(new URL(`../lambdas/shared/sdk-lean/${file}`, import.meta.url));

/**
 * Module replacements, by function (see lambdas/shared/sdk-lean/): the SDK's default credential chain
 * becomes the environment provider alone, endpoint discovery keeps its settings but not its cache, and the
 * event-stream codec is left out of the request path's two functions, whose clients (DynamoDB, KMS, Secrets
 * Manager) have no event-stream operation. The audit and admin functions keep the codec: their S3 client
 * resolves its event-stream settings when it is built.
 */
export const BUNDLE_ALIASES: Readonly<Record<LambdaName, Readonly<Record<string, string>>>> = (() => {
  const all = {
    '@aws-sdk/credential-provider-node': lean('credential-provider.ts'),
    '@aws-sdk/middleware-endpoint-discovery': lean('endpoint-discovery.ts'),
  };
  const noEventStreams = { ...all, '@smithy/core/event-streams': lean('event-streams.ts') };
  return { authorizer: noEventStreams, proxy: noEventStreams, admin: all, audit: all };
})();

/** The same replacements as esbuild command-line arguments, for the stack's `NodejsFunction` bundling. */
export function bundleEsbuildArgs(name: LambdaName): Record<string, string> {
  return Object.fromEntries(
    Object.entries(BUNDLE_ALIASES[name]).map(([from, to]) => [`--alias:${from}`, to]),
  );
}

/** The esbuild options equivalent to the stack's bundling, writing `outfile`. */
export function esbuildOptions(name: LambdaName, outfile: string): BuildOptions {
  return {
    entryPoints: [LAMBDA_ENTRIES[name]],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: BUNDLE_TARGET,
    minify: true,
    mainFields: BUNDLE_MAIN_FIELDS,
    banner: { js: BUNDLE_BANNER },
    alias: { ...BUNDLE_ALIASES[name] },
    logLevel: 'silent',
  };
}
