/**
 * `tollgate dev` as an operator runs it: a child process with its own state folder and its own DynamoDB
 * Local. First start prints a key once; the CLI (another process) works against the running gateway;
 * SIGINT stops DynamoDB Local too; data survives a restart; a busy port and a missing Java give one line.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeOpenAI, startFakeOpenAI } from '../fakes/openai-upstream.ts';
import { listen } from '../helpers/http.ts';

const CLI = join(import.meta.dirname, '../../bin/tollgate.ts');
const home = mkdtempSync(join(tmpdir(), 'tollgate-dev-'));
const UPSTREAM_KEY = 'sk-upstream-dev-7a6b5c';
let fake: FakeOpenAI;
const children: ChildProcess[] = [];

interface Dev {
  child: ChildProcess;
  output: () => string;
  url: string;
  dynamoPid: number;
}

function spawnCli(args: string[], env: NodeJS.ProcessEnv = {}): ChildProcess {
  const child = spawn(process.execPath, [CLI, ...args], {
    env: { ...process.env, TOLLGATE_HOME: home, POWERTOOLS_LOG_LEVEL: 'SILENT', ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  children.push(child);
  return child;
}

async function runCli(
  args: string[],
  input?: string,
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawnCli(args, env);
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
  child.stdin?.end(input ?? '');
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  return { code, stdout, stderr };
}

async function startDev(): Promise<Dev> {
  const child = spawnCli(['dev', '--port', '0']);
  let output = '';
  child.stdout?.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (output += c.toString()));
  const deadline = Date.now() + 60_000;
  while (!output.includes('Press Ctrl-C to stop.')) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`dev did not start: ${output}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const url = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(output)?.[1];
  const dynamoPid = Number(/DynamoDB Local pid (\d+)/.exec(output)?.[1]);
  if (url === undefined || !dynamoPid) throw new Error(`unexpected dev output: ${output}`);
  return { child, output: () => output, url, dynamoPid };
}

async function stop(dev: Dev): Promise<number | null> {
  const exited = new Promise<number | null>((resolve) => dev.child.once('exit', resolve));
  dev.child.kill('SIGINT');
  return exited;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

beforeAll(async () => {
  fake = await startFakeOpenAI(UPSTREAM_KEY);
});

afterAll(async () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  await fake?.close();
});

describe('tollgate dev', () => {
  it('starts, prints a first key once, serves it, stops DynamoDB Local on Ctrl-C and keeps data across restarts', async () => {
    // Prepare + Act: first start.
    const first = await startDev();
    const key = /(sk-tg-\w{12}_\w{38})/.exec(first.output())?.[1];
    expect(key).toBeDefined();
    expect(first.output()).toContain(`curl ${first.url}/v1/chat/completions`);
    const added = await runCli(
      ['providers', 'add', 'openai', '--type', 'openai', '--base-url', fake.baseUrl, '--key-stdin'],
      `${UPSTREAM_KEY}\n`,
    );
    expect(added.code).toBe(0);
    const openai = new OpenAI({ apiKey: key ?? '', baseURL: `${first.url}/v1`, maxRetries: 0 });
    const answer = await openai.chat.completions.create({
      model: 'openai/gpt-4o-mini',
      messages: [{ role: 'user', content: 'Hi' }],
    });
    expect(answer.choices[0]?.message.content).toBe('Hello from the fake upstream.');

    // Act: Ctrl-C.
    expect(await stop(first)).toBe(0);

    // Assess: DynamoDB Local is gone, and a restart keeps keys and providers without a new first key.
    expect(alive(first.dynamoPid)).toBe(false);
    const second = await startDev();
    expect(second.output()).not.toContain('First start');
    const again = new OpenAI({ apiKey: key ?? '', baseURL: `${second.url}/v1`, maxRetries: 0 });
    const answer2 = await again.chat.completions.create({
      model: 'openai/gpt-4o-mini',
      messages: [{ role: 'user', content: 'Hi' }],
    });
    expect(answer2.choices[0]?.message.content).toBe('Hello from the fake upstream.');
    expect(await stop(second)).toBe(0);
    expect(alive(second.dynamoPid)).toBe(false);
  }, 120_000);

  it('refuses a busy port with one line', async () => {
    // Prepare
    const squatter = await listen((_req, res) => res.end());

    // Act
    const result = await runCli(['dev', '--port', String(squatter.port)]);
    await squatter.close();

    // Assess
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      `tollgate: port ${squatter.port} on 127.0.0.1 is busy: stop what uses it or set PORT\n`,
    );
  }, 60_000);

  it('says so in one line when Java is missing', async () => {
    const result = await runCli(['dev', '--port', '0'], undefined, { PATH: dirname(process.execPath) });
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      'tollgate: Java was not found: install Java 17 or newer (DynamoDB Local needs it)\n',
    );
  });
});
