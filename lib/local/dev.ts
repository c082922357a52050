/**
 * `tollgate dev` (`npm start`): DynamoDB Local on the state folder, tables created if missing, the local
 * gateway on 127.0.0.1, and on first start a key printed once with a working curl example. SIGINT, SIGTERM
 * and SIGHUP stop the gateway and DynamoDB Local; the data stays for the next start, unless it was kept in
 * memory. DynamoDB Local also ends by itself when this process dies without stopping it.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { readEnv } from '#shared/env.ts';
import { storesFromEnv } from '#shared/store/stores.ts';
import { withSpinner } from '../terminal.ts';
import { auditPoller } from './audit-runtime.ts';
import { startDynamoDbLocal } from './dynamodb-local.ts';
import { startGateway } from './gateway.ts';
import {
  adminToken,
  applyLocalEnv,
  clearRuntime,
  inMemoryState,
  type LocalState,
  localActor,
  openLocalState,
  readRuntime,
  writeRuntime,
} from './state.ts';
import type { StreamPoller } from './stream-poller.ts';
import { ensureTables } from './tables.ts';

/** Options of the dev command. */
export interface DevOptions {
  port: number;
  authorizerCacheTtlSeconds: number;
  /**
   * DynamoDB Local keeps the data in memory instead of the state folder, and the audit's files go to
   * `in-memory/`, removed at stop: every start is a first start. A third to 40 % less of DynamoDB Local's
   * CPU per request in the bench, with no database file to write.
   */
  inMemory?: boolean;
  /** Writes progress and the first key; the CLI passes stdout. */
  print: (text: string) => void;
}

/** A clear, one-line failure of the dev command. */
export class DevError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DevError';
  }
}

async function firstStartKey(gatewayUrl: string, print: (text: string) => void): Promise<void> {
  const { keys, providers: providerStore } = storesFromEnv(readEnv(), localActor());
  if ((await keys.list()).length > 0) return;
  const providers = await providerStore.list();
  const created = await keys.create({ name: 'default' });
  const model = providers[0] === undefined ? 'openai/gpt-4o-mini' : `${providers[0].provider}/gpt-4o-mini`;
  print(
    [
      '',
      `First start: created key ${created.key.keyId} ("default"). It is shown this once; store it now:`,
      '',
      `  ${created.plaintext}`,
      '',
      ...(providers.length === 0
        ? [
            'Register an upstream provider first, e.g.:',
            '  npx tollgate providers add openai --type openai --base-url https://api.openai.com/v1 --key-env OPENAI_API_KEY',
            '',
          ]
        : []),
      'Then:',
      `  curl ${gatewayUrl}/v1/chat/completions \\`,
      `    -H "Authorization: Bearer ${created.plaintext}" \\`,
      `    -H "Content-Type: application/json" \\`,
      `    -d '{"model":"${model}","messages":[{"role":"user","content":"Hello"}]}'`,
      '',
    ].join('\n'),
  );
}

/** The first stop signal, listened for from the start, so one sent while starting is not lost. */
interface StopSignal {
  /** Resolves with the signal. */
  stopped: Promise<NodeJS.Signals>;
  received(): boolean;
  /** Stops listening. */
  dispose(): void;
}

function stopSignal(): StopSignal {
  let got: NodeJS.Signals | undefined;
  let settle: (signal: NodeJS.Signals) => void = () => {};
  const stopped = new Promise<NodeJS.Signals>((resolve) => {
    settle = resolve;
  });
  const on = (signal: NodeJS.Signals): void => {
    if (got !== undefined) return;
    got = signal;
    // A terminal that hung up fails every write to it; nobody is left to read them.
    if (signal === 'SIGHUP')
      for (const stream of [process.stdout, process.stderr]) stream.on('error', () => {});
    settle(signal);
  };
  // SIGHUP: a closed terminal, stopped as Ctrl-C is rather than killed with DynamoDB Local's work undone.
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
  for (const signal of signals) process.on(signal, on);
  return {
    stopped,
    received: () => got !== undefined,
    dispose: () => {
      for (const signal of signals) process.off(signal, on);
    },
  };
}

/** Runs until a signal arrives; resolves after everything it started has stopped. */
export async function runDev(options: DevOptions): Promise<void> {
  const home = openLocalState();
  const running = readRuntime(home);
  if (running !== undefined)
    throw new DevError(`a local gateway already runs (pid ${running.pid}) at ${running.gatewayUrl}`);
  const signal = stopSignal();
  try {
    await serve(options, { home, signal });
  } finally {
    signal.dispose();
  }
}

/** Starts everything, waits for `signal`, then stops everything it started. */
async function serve(options: DevOptions, ctx: { home: LocalState; signal: StopSignal }): Promise<void> {
  const { signal } = ctx;
  const inMemory = options.inMemory === true;
  const state = inMemory ? inMemoryState(ctx.home) : ctx.home;
  // An in-memory run's audit files start and end with it.
  if (inMemory) {
    rmSync(state.auditHome, { recursive: true, force: true });
    mkdirSync(state.auditHome, { mode: 0o700 });
  }
  const dynamo = await withSpinner('Starting DynamoDB Local', () =>
    startDynamoDbLocal(inMemory ? {} : { dbPath: state.dbPath }),
  );
  let gateway: Awaited<ReturnType<typeof startGateway>> | undefined;
  let poller: StreamPoller | undefined;
  let print = options.print;
  // Every step runs whatever the one before did: a last audit seal that failed must not leave DynamoDB
  // Local running or the runtime file behind. Answers the first failure.
  const stopAll = async (): Promise<unknown> => {
    const steps = [
      () => poller?.stop(),
      () => gateway?.close(),
      () => dynamo.stop(),
      // Only its own: a second start that failed must not unpublish the gateway that runs.
      () => (readRuntime(state)?.pid === process.pid ? clearRuntime(state) : undefined),
      () => (inMemory ? rmSync(state.auditHome, { recursive: true, force: true }) : undefined),
    ];
    const failed: unknown[] = [];
    for (const step of steps)
      await Promise.resolve()
        .then(step)
        .catch((err: unknown) => failed.push(err));
    return failed[0];
  };
  try {
    applyLocalEnv(state, dynamo.endpoint);
    const client = new DynamoDBClient({});
    await ensureTables(client, state.tables);
    client.destroy();
    try {
      gateway = await startGateway({
        port: options.port,
        authorizerCacheTtlSeconds: options.authorizerCacheTtlSeconds,
        adminToken: adminToken(state),
      });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') {
        throw new DevError(`port ${options.port} on 127.0.0.1 is busy: stop what uses it or set PORT`);
      }
      throw err;
    }
    poller = await auditPoller(state);
    poller.start();
    writeRuntime(state, {
      pid: process.pid,
      gatewayUrl: gateway.url,
      dynamoEndpoint: dynamo.endpoint,
      startedAt: new Date().toISOString(),
      authorizerCacheTtlSeconds: options.authorizerCacheTtlSeconds,
      ...(inMemory ? { inMemory } : {}),
    });
    print(
      `Tollgate local gateway listening on ${gateway.url} (state: ${inMemory ? 'in memory, gone at stop' : state.home}; DynamoDB Local pid ${dynamo.pid})\n`,
    );
    // Stopped while starting: no first key for nobody to see.
    if (!signal.received()) {
      await firstStartKey(gateway.url, print);
      print('Press Ctrl-C to stop.\n');
    }
    if ((await signal.stopped) === 'SIGHUP') print = () => {};
    print('Stopping…\n');
  } catch (err) {
    await stopAll();
    throw err;
  }
  const failed = await stopAll();
  if (failed !== undefined) throw failed;
}
