/**
 * Each Lambda bundle built with the stack's own esbuild options: its size, its import time (a fresh
 * Node process per import, median of 5), which default-credential-chain modules it still carries and which
 * of the SDK features left out of the request path's bundles it has.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { esbuildOptions, LAMBDA_ENTRIES, type LambdaName } from '../lib/bundling.ts';
import { applyLocalEnv, openLocalState } from '../lib/local/state.ts';

const RUNTIME = fileURLToPath(new URL('../lib/local/lambda-runtime.ts', import.meta.url));

/**
 * Strings only the default credential chain's providers contain: SSO, STS web identity, the process
 * provider, ECS/EKS container credentials, and IMDS credentials (the region lookup of the SDK's defaults
 * mode also knows IMDS's address, so that is not a marker).
 */
export const CREDENTIAL_CHAIN_MARKERS = {
  sso: 'sso_start_url',
  sts: 'AssumeRoleWithWebIdentity',
  process: 'credential_process',
  container: 'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI',
  imds: '/latest/meta-data/iam/security-credentials/',
} as const;

/** The names of the `markers` whose string `text` contains. */
function found(markers: Readonly<Record<string, string>>, text: string): string[] {
  return Object.entries(markers)
    .filter(([, marker]) => text.includes(marker))
    .map(([name]) => name);
}

/** The credential-chain providers a bundle's text still contains. */
export const credentialChainIn = (text: string): string[] => found(CREDENTIAL_CHAIN_MARKERS, text);

/**
 * Strings only two SDK features the request path has no use for contain: the event-stream codec's header
 * names and the endpoint-discovery cache (which the SDK's DynamoDB client carried).
 */
export const LEFT_OUT_MARKERS = {
  eventStreams: ':message-type',
  endpointCache: 'endpointCache',
} as const;

/** The left-out SDK features a bundle's text still contains. */
export const leftOutIn = (text: string): string[] => found(LEFT_OUT_MARKERS, text);

/** Builds one bundle into `dir` and returns its path. */
export async function buildBundle(name: LambdaName, dir: string): Promise<string> {
  const outfile = join(dir, `${name}.mjs`);
  await build(esbuildOptions(name, outfile));
  return outfile;
}

/** Sizes, import times and credential-chain content of every Lambda bundle. */
export async function bundleFigures() {
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-bench-bundles-'));
  const env: NodeJS.ProcessEnv = { ...process.env, POWERTOOLS_LOG_LEVEL: 'SILENT' };
  applyLocalEnv(openLocalState(join(dir, 'home')), 'http://127.0.0.1:9', env);
  const figures = [];
  try {
    for (const name of Object.keys(LAMBDA_ENTRIES) as LambdaName[]) {
      const file = await buildBundle(name, dir);
      const text = readFileSync(file, 'utf8');
      const times: number[] = [];
      for (let i = 0; i < 5; i++) {
        const run = spawnSync(
          process.execPath,
          [
            '--input-type=module',
            '-e',
            // The streaming handler needs Lambda's `awslambda` global, as on Lambda; installing it is not timed.
            `const { installAwsLambdaGlobal } = await import(${JSON.stringify(RUNTIME)}); installAwsLambdaGlobal(); const t = performance.now(); await import(${JSON.stringify(file)}); console.log(performance.now() - t);`,
          ],
          { env, encoding: 'utf8' },
        );
        times.push(Number(run.stdout.trim().split('\n').at(-1)));
      }
      times.sort((a, b) => a - b);
      figures.push({
        name,
        bytes: statSync(file).size,
        gzip: gzipSync(text).length,
        importMs: times[2] ?? Number.NaN,
        credentialChain: credentialChainIn(text),
        sdkFeatures: leftOutIn(text),
      });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return figures;
}
