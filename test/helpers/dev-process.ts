/** Runs `tollgate dev` as a child process, as an operator would, and reads what it prints. */
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';

export const CLI_ENTRY = join(import.meta.dirname, '../../bin/tollgate.ts');

/** A running `tollgate dev`. */
export interface DevProcess {
  child: ChildProcess;
  url: string;
  dynamoPid: number;
  /** The first-start key, when this start printed one. */
  firstKey: string | undefined;
  output(): string;
  /** Sends SIGINT (Ctrl-C) and resolves with the exit code. */
  stop(): Promise<number | null>;
}

/** Spawns the CLI with a state folder of its own. */
export function spawnCli(
  args: string[],
  home: string,
  env: NodeJS.ProcessEnv = {},
  detached = false,
): ChildProcess {
  return spawn(process.execPath, [CLI_ENTRY, ...args], {
    env: { ...process.env, TOLLGATE_HOME: home, POWERTOOLS_LOG_LEVEL: 'SILENT', ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
    detached,
  });
}

/**
 * Starts `tollgate dev --port 0` (and `args`) and waits until it is ready (60 s at most). With `group`, in
 * a process group of its own, as a terminal starts it, so a signal to `-pid` reaches all it started there.
 */
export async function startDevProcess(
  home: string,
  args: string[] = [],
  options: { group?: boolean } = {},
): Promise<DevProcess> {
  const child = spawnCli(['dev', '--port', '0', ...args], home, {}, options.group === true);
  child.stdin?.end();
  let output = '';
  child.stdout?.on('data', (c: Buffer) => {
    output += c.toString();
  });
  child.stderr?.on('data', (c: Buffer) => {
    output += c.toString();
  });
  const deadline = Date.now() + 60_000;
  while (!output.includes('Press Ctrl-C to stop.')) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`tollgate dev did not start: ${output}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const url = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(output)?.[1];
  const dynamoPid = Number(/DynamoDB Local pid (\d+)/.exec(output)?.[1]);
  if (url === undefined || !dynamoPid) {
    child.kill('SIGKILL');
    throw new Error(`unexpected tollgate dev output: ${output}`);
  }
  return {
    child,
    url,
    dynamoPid,
    firstKey: /(sk-tg-\w{12}_\w{38})/.exec(output)?.[1],
    output: () => output,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
      child.kill('SIGINT');
      return exited;
    },
  };
}

/** Runs one CLI command to completion, feeding `input` on stdin. */
export async function runCliProcess(
  args: string[],
  home: string,
  input = '',
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawnCli(args, home, env);
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (c: Buffer) => {
    stdout += c.toString();
  });
  child.stderr?.on('data', (c: Buffer) => {
    stderr += c.toString();
  });
  child.stdin?.end(input);
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  return { code, stdout, stderr };
}
