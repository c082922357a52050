/**
 * `tollgate dev` as an operator runs it: a child process with its own state folder and its own DynamoDB
 * Local. First start prints a key once; the CLI (another process) works against the running gateway;
 * SIGINT and SIGHUP stop DynamoDB Local too, and a killed gateway's ends by itself; data survives a
 * restart; a busy port and a missing Java give one line.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { processAlive } from '../../lib/local/state.ts';
import { type FakeOpenAI, startFakeOpenAI } from '../fakes/openai-upstream.ts';
import { type DevProcess, runCliProcess, startDevProcess } from '../helpers/dev-process.ts';
import { listen } from '../helpers/http.ts';

const home = mkdtempSync(join(tmpdir(), 'tollgate-dev-'));
const UPSTREAM_KEY = 'sk-upstream-dev-7a6b5c';
let fake: FakeOpenAI;
const running: DevProcess[] = [];

async function startDev(args: string[] = [], at = home): Promise<DevProcess> {
  const dev = await startDevProcess(at, args);
  running.push(dev);
  return dev;
}

/** Whether a process has ended: gone, or a zombie its new parent has not reaped yet. */
function ended(pid: number): boolean {
  if (!processAlive(pid)) return true;
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.startsWith('Z') === true;
  } catch {
    return true;
  }
}

/** Waits until `done()` holds, checking every 100 ms; fails after `ms`. */
async function until(done: () => boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

beforeAll(async () => {
  fake = await startFakeOpenAI(UPSTREAM_KEY);
});

afterAll(async () => {
  for (const dev of running) if (dev.child.exitCode === null) dev.child.kill('SIGKILL');
  await fake?.close();
});

describe('tollgate dev', () => {
  it('starts, prints a first key once, serves it, stops DynamoDB Local on Ctrl-C and keeps data across restarts', async () => {
    // Prepare + Act: first start.
    const first = await startDev();
    const key = first.firstKey;
    expect(key).toBeDefined();
    expect(first.output()).toContain(`curl ${first.url}/v1/chat/completions`);
    const added = await runCliProcess(
      ['providers', 'add', 'openai', '--type', 'openai', '--base-url', fake.baseUrl, '--key-stdin'],
      home,
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
    expect(await first.stop()).toBe(0);

    // Assess: DynamoDB Local is gone, and a restart keeps keys and providers without a new first key.
    expect(processAlive(first.dynamoPid)).toBe(false);
    const second = await startDev();
    expect(second.output()).not.toContain('First start');
    const again = new OpenAI({ apiKey: key ?? '', baseURL: `${second.url}/v1`, maxRetries: 0 });
    const answer2 = await again.chat.completions.create({
      model: 'openai/gpt-4o-mini',
      messages: [{ role: 'user', content: 'Hi' }],
    });
    expect(answer2.choices[0]?.message.content).toBe('Hello from the fake upstream.');
    expect(await second.stop()).toBe(0);
    expect(processAlive(second.dynamoPid)).toBe(false);
  }, 120_000);

  it('--in-memory serves as usual and keeps no data or audit files: the next start is a first start again', async () => {
    // Prepare
    const ephemeral = mkdtempSync(join(tmpdir(), 'tollgate-dev-memory-'));
    const first = await startDev(['--in-memory'], ephemeral);
    expect(first.output()).toContain('state: in memory, gone at stop');
    const added = await runCliProcess(
      ['providers', 'add', 'openai', '--type', 'openai', '--base-url', fake.baseUrl, '--key-stdin'],
      ephemeral,
      `${UPSTREAM_KEY}\n`,
    );
    expect(added.code).toBe(0);

    // Act
    const openai = new OpenAI({ apiKey: first.firstKey ?? '', baseURL: `${first.url}/v1`, maxRetries: 0 });
    const answer = await openai.chat.completions.create({
      model: 'openai/gpt-4o-mini',
      messages: [{ role: 'user', content: 'Hi' }],
    });
    expect(await first.stop()).toBe(0);
    const left = readdirSync(ephemeral).sort();
    const second = await startDev(['--in-memory'], ephemeral);
    const verified = await runCliProcess(['audit', 'verify'], ephemeral);

    // Assess: served; no database file and none of the audit's files were left (a later run's digest
    // chain would read them as tampering), and the second run's audit verifies on its own.
    expect(answer.choices[0]?.message.content).toBe('Hello from the fake upstream.');
    expect(readdirSync(join(ephemeral, 'dynamodb'))).toEqual([]);
    for (const file of [
      'stream-checkpoints.json',
      'audit-digests.jsonl',
      'audit-failures.jsonl',
      'in-memory',
      'audit',
    ])
      expect(left).not.toContain(file);
    expect(verified.code, verified.stdout + verified.stderr).toBe(0);
    expect(second.output()).toContain('First start');
    expect(second.firstKey).not.toBe(first.firstKey);
    const gone = new OpenAI({ apiKey: first.firstKey ?? '', baseURL: `${second.url}/v1`, maxRetries: 0 });
    await expect(
      gone.chat.completions.create({
        model: 'openai/gpt-4o-mini',
        messages: [{ role: 'user', content: 'Hi' }],
      }),
    ).rejects.toMatchObject({ status: 401 });
    expect(await second.stop()).toBe(0);
  }, 120_000);

  it('leaves no DynamoDB Local behind: a terminal hang-up stops as Ctrl-C does, and a killed gateway takes it along', async () => {
    // Prepare
    const hungUpHome = mkdtempSync(join(tmpdir(), 'tollgate-dev-hup-'));
    const hungUp = await startDev([], hungUpHome);
    const killed = await startDev([], mkdtempSync(join(tmpdir(), 'tollgate-dev-kill-')));
    const exited = new Promise<unknown>((resolve) => hungUp.child.once('exit', (code) => resolve(code)));

    // Act
    hungUp.child.kill('SIGHUP');
    killed.child.kill('SIGKILL');

    // Assess: the hung-up gateway stopped cleanly (its runtime file gone too); the killed one's DynamoDB
    // Local ended by itself.
    expect(await exited).toBe(0);
    expect(ended(hungUp.dynamoPid)).toBe(true);
    expect(existsSync(join(hungUpHome, 'runtime.json'))).toBe(false);
    try {
      await until(() => ended(killed.dynamoPid), 20_000);
    } finally {
      // Should it have stayed, it is still this test's to stop.
      if (!ended(killed.dynamoPid)) process.kill(killed.dynamoPid, 'SIGKILL');
    }
  }, 120_000);

  it('stops cleanly on a Ctrl-C sent, as a terminal sends it, to its whole process group', async () => {
    // Prepare: a gateway leading its own group, as a shell's foreground job does.
    const groupHome = mkdtempSync(join(tmpdir(), 'tollgate-dev-group-'));
    const dev = await startDevProcess(groupHome, [], { group: true });
    running.push(dev);
    const exited = new Promise<unknown>((resolve) => dev.child.once('exit', (code) => resolve(code)));

    // Act
    process.kill(-(dev.child.pid ?? 0), 'SIGINT');

    // Assess: DynamoDB Local, in a group of its own, outlived the Ctrl-C until the gateway's last audit
    // seal and stop, so the gateway exited 0 and unpublished itself.
    expect(await exited).toBe(0);
    expect(ended(dev.dynamoPid)).toBe(true);
    expect(existsSync(join(groupHome, 'runtime.json'))).toBe(false);
  }, 120_000);

  it('refuses a busy port with one line', async () => {
    // Prepare
    const squatter = await listen((_req, res) => res.end());

    // Act
    const result = await runCliProcess(['dev', '--port', String(squatter.port)], home);
    await squatter.close();

    // Assess
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      `tollgate: port ${squatter.port} on 127.0.0.1 is busy: stop what uses it or set PORT\n`,
    );
  }, 60_000);

  it('says so in one line when Java is missing', async () => {
    const result = await runCliProcess(['dev', '--port', '0'], home, '', { PATH: dirname(process.execPath) });
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      'tollgate: Java was not found: install Java 17 or newer (DynamoDB Local needs it)\n',
    );
  });
});
