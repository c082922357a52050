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
 * becomes the environment provider alone. No function carries the SDK's DynamoDB client (they call
 * DynamoDB through `sdk-lean/dynamodb.ts`), and with it went the endpoint-discovery cache and, from the
 * request path's two, the event-stream codec, which earlier stand-ins here left out.
 */
const ALIASES = { '@aws-sdk/credential-provider-node': lean('credential-provider.ts') };
export const BUNDLE_ALIASES: Readonly<Record<LambdaName, Readonly<Record<string, string>>>> = {
  authorizer: ALIASES,
  proxy: ALIASES,
  admin: ALIASES,
  audit: ALIASES,
};

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
