/**
 * The proxy's deployed shape, locally: its Lambda bundle (built with the stack's own esbuild options) run
 * by the real Node.js runtime interface client (`aws-lambda-ric`, installed in test/lambda-runtime/) against
 * the Runtime API fake, with the environment a caller gives it — as the Lambda service runs it.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { build } from 'esbuild';
import { esbuildOptions } from '../../lib/bundling.ts';
import { type AuthorizerDecision, AuthorizerEmulator } from '../../lib/local/authorizer-emulation.ts';
import { authorizerEvent, type IncomingParts, proxyEvent } from '../../lib/local/events.ts';
import { localContext } from '../../lib/local/lambda-runtime.ts';
import { type RuntimeApi, startRuntimeApi } from '../fakes/lambda-runtime-api.ts';

const RIC = fileURLToPath(
  new URL('../lambda-runtime/node_modules/aws-lambda-ric/index.mjs', import.meta.url),
);
const RIC_NATIVE = fileURLToPath(
  new URL('../lambda-runtime/node_modules/aws-lambda-ric/rapid-client.node', import.meta.url),
);

/**
 * Whether `npm install` could build the runtime interface client: its install compiles a native Runtime API
 * client (make, cmake, g++), which a machine with only Node and Java lacks — there the install goes on
 * without it (package.json's `install:lambda-runtime`) and the tests that need it are skipped, by name.
 */
export const ricInstalled: boolean = existsSync(RIC) && existsSync(RIC_NATIVE);

/** The name a skipped runtime-client test carries, so a run without it says why. */
export const RIC_MISSING =
  'skipped: aws-lambda-ric is not built here (its npm install needs make, cmake and g++)';

/** A proxy bundle running under the runtime interface client. */
export interface ProxyUnderRic {
  api: RuntimeApi;
  child: ChildProcess;
  /** Everything the function process printed (its log lines). */
  output: () => string;
  /** The process's exit code once it exited; undefined while it runs. */
  exitCode: () => number | null | undefined;
  stop: () => Promise<void>;
}

/** Builds the proxy bundle and starts it under `aws-lambda-ric`, with `env` as its environment. */
export async function startProxyUnderRic(env: NodeJS.ProcessEnv): Promise<ProxyUnderRic> {
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-ric-'));
  await build(esbuildOptions('proxy', join(dir, 'index.mjs')));
  const api = await startRuntimeApi();
  const child = spawn(process.execPath, [RIC], {
    cwd: dir,
    env: {
      ...env,
      AWS_LAMBDA_RUNTIME_API: api.address,
      LAMBDA_TASK_ROOT: dir,
      _HANDLER: 'index.handler',
      AWS_LAMBDA_FUNCTION_NAME: 'tollgate-proxy',
      AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '1024',
      AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs24.x',
      AWS_LAMBDA_LOG_GROUP_NAME: '/aws/lambda/tollgate-proxy',
      AWS_LAMBDA_LOG_STREAM_NAME: '2026/11/24/[$LATEST]local',
      AWS_REGION: env.AWS_REGION ?? 'eu-west-1',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (c: Buffer) => {
    output += c.toString();
  });
  child.stderr?.on('data', (c: Buffer) => {
    output += c.toString();
  });
  let exitCode: number | null | undefined;
  const exited = new Promise<void>((resolve) =>
    child.once('exit', (code) => {
      exitCode = code;
      resolve();
    }),
  );
  return {
    api,
    child,
    output: () => output,
    exitCode: () => exitCode,
    stop: async () => {
      if (exitCode === undefined) child.kill('SIGTERM');
      await exited;
      await api.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

let authorizer: AuthorizerEmulator | undefined;

/**
 * The API Gateway event of a streamed OpenAI chat completion by `key`, with the context the real authorizer
 * (run in this process, on this process's environment) gives it, as API Gateway delivers both.
 */
export async function streamedChatEvent(key: string, model: string): Promise<APIGatewayProxyEvent> {
  if (authorizer === undefined) {
    const { handler } = await import('../../lambdas/authorizer/handler.ts');
    authorizer = new AuthorizerEmulator(
      handler as unknown as ConstructorParameters<typeof AuthorizerEmulator>[0],
      {
        identityHeaders: ['authorization'],
        ttlSeconds: 0,
      },
    );
  }
  const parts: IncomingParts = {
    requestId: randomUUID(),
    method: 'POST',
    path: '/v1/chat/completions',
    resource: '/v1/chat/completions',
    params: {},
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    query: new URLSearchParams(),
    body: Buffer.from(JSON.stringify({ model, stream: true, messages: [{ role: 'user', content: 'Hi' }] })),
    sourceIp: '127.0.0.1',
    stage: 'prod',
  };
  const decision: AuthorizerDecision = await authorizer.decide(
    authorizerEvent(parts),
    localContext('tollgate-authorizer', parts.requestId),
  );
  if (decision.effect !== 'allow') throw new Error(`the authorizer answered ${decision.effect}`);
  return proxyEvent(parts, { ...decision.context, principalId: decision.principalId });
}
