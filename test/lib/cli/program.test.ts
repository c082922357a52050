/**
 * The command table and its engine: help, version, suggestions, exit codes and the README table all come
 * from `COMMANDS`; usage mistakes are caught before DynamoDB Local starts; `--json` is one document.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { COMMANDS } from '../../../lib/cli/commands.ts';
import { withLocalStores } from '../../../lib/cli/context.ts';
import { README_CLI_MARKERS, readmeTable } from '../../../lib/cli/help.ts';
import { humanLine } from '../../../lib/cli/logging.ts';
import { openLocalState, writeRuntime } from '../../../lib/local/state.ts';
import { CLI_ENTRY, runCliProcess } from '../../helpers/dev-process.ts';
import { runCli } from '../../helpers/run-cli.ts';

/** A state folder with no running gateway, so any storage command would start DynamoDB Local. */
const home = () => mkdtempSync(join(tmpdir(), 'tollgate-program-'));
/** No Java on the PATH: starting DynamoDB Local would fail with its own message. */
const noJava = { PATH: dirname(process.execPath) };

beforeAll(() => {
  // In-process commands use the run's DynamoDB Local, as they would a running `tollgate dev`.
  const inProcess = home();
  process.env.TOLLGATE_HOME = inProcess;
  // Tables of its own: other files share the run's DynamoDB Local, and this one imports and deletes keys.
  process.env.TOLLGATE_TABLE_PREFIX = 'program-test';
  writeRuntime(openLocalState(inProcess), {
    pid: process.pid,
    gatewayUrl: 'http://127.0.0.1:1',
    dynamoEndpoint: inject('dynamoEndpoint'),
    startedAt: new Date().toISOString(),
  });
});

describe('the command table', () => {
  it.each(COMMANDS.map((c) => c.name))('%s has a summary, an example and its own --help', async (name) => {
    // Prepare
    const entry = COMMANDS.find((c) => c.name === name);

    // Act
    const help = await runCli(...name.split(' '), '--help');

    // Assess
    expect(entry?.summary).not.toBe('');
    expect(entry?.examples.length).toBeGreaterThan(0);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain(`Usage: tollgate ${name}`);
    expect(help.stdout).toContain(entry?.examples[0]);
  });

  it('is what the README lists', () => {
    // Prepare
    const readme = readFileSync(join(import.meta.dirname, '../../../README.md'), 'utf8');
    const [start, end] = README_CLI_MARKERS;

    // Act
    const inReadme = readme.slice(readme.indexOf(start) + start.length, readme.indexOf(end)).trim();

    // Assess
    expect(inReadme, 'run npm run readme:cli').toBe(readmeTable());
  });
});

describe('parsing', () => {
  it('suggests the command meant, with exit code 2', async () => {
    // Act
    const sub = await runCli('keys', 'lst');
    const top = await runCli('kyes', 'list');

    // Assess
    expect(sub.code).toBe(2);
    expect(sub.stderr.split('\n')[0]).toBe("tollgate: unknown command 'keys lst'; did you mean 'keys list'?");
    expect(sub.stderr.split('\n')[1]).toBe("Run 'tollgate keys --help' for usage.");
    expect(top.code).toBe(2);
    expect(top.stderr.split('\n')[0]).toBe("tollgate: unknown command 'kyes'; did you mean 'keys'?");
  });

  it('refuses a flag the command does not take, suggesting the one meant', async () => {
    // Act
    const near = await runCli('keys', 'list', '--tem', 'x');
    const far = await runCli('teams', 'list', '--rpm', '3');

    // Assess
    expect(near.code).toBe(2);
    expect(near.stderr.split('\n')[0]).toBe(
      "tollgate: unknown option '--tem' for 'keys list'; did you mean --team?",
    );
    expect(far.stderr.split('\n')[0]).toBe("tollgate: unknown option '--rpm' for 'teams list'");
    expect(far.stderr.split('\n')[1]).toBe("Run 'tollgate teams list --help' for usage.");
  });

  it('prints the version from package.json', async () => {
    // Prepare
    const pkg = JSON.parse(readFileSync(join(import.meta.dirname, '../../../package.json'), 'utf8')) as {
      version: string;
    };

    // Act
    const result = await runCli('--version');

    // Assess
    expect(result).toEqual({ code: 0, stdout: `${pkg.version}\n`, stderr: '' });
  });

  it('shows help and exits 2 when no command is given', async () => {
    const result = await runCli();
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('Usage: tollgate');
  });

  it('checks arguments before DynamoDB Local starts (no Java needed to hear about a mistake)', async () => {
    // Act
    const missingOption = await runCliProcess(['keys', 'create'], home(), '', noJava);
    const missingArg = await runCliProcess(['keys', 'show'], home(), '', noJava);
    const badFormat = await runCliProcess(['dev', '--log-format', 'xml'], home(), '', noJava);
    const badPort = await runCliProcess(['dev', '--port', 'eighty'], home(), '', noJava);
    const stored = await runCliProcess(['keys', 'list'], home(), '', noJava);

    // Assess
    expect([missingOption.code, missingArg.code, badFormat.code, badPort.code]).toEqual([2, 2, 2, 2]);
    expect(missingOption.stderr.split('\n')[0]).toBe('tollgate: keys create needs --name NAME');
    expect(missingArg.stderr.split('\n')[0]).toBe('tollgate: keys show needs ID');
    expect(badFormat.stderr.split('\n')[0]).toBe('tollgate: --log-format must be human or json');
    expect(badPort.stderr.split('\n')[0]).toBe('tollgate: --port must be a non-negative integer');
    // The same process does reach for Java once the command is valid.
    expect(stored.code).toBe(1);
    expect(stored.stderr).toContain('Java was not found');
  });
});

describe('output', () => {
  it('prints exactly one JSON document on stdout with no gateway running, logs on stderr', async () => {
    // Act: no runtime.json, so the command starts DynamoDB Local and the audit poller, which logs.
    const result = await runCliProcess(['keys', 'create', '--name', 'solo', '--json'], home(), '', {
      POWERTOOLS_LOG_LEVEL: 'INFO',
    });

    // Assess
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ name: 'solo', status: 'active' });
    expect(result.stderr).toContain('"message":"audit record"');
  }, 60_000);

  it('prints an error document on stdout with --json, and exits 1 on failure', async () => {
    // Act
    const result = await runCli('keys', 'show', 'NoSuchKey123', '--json');

    // Assess
    expect(result.code).toBe(1);
    expect(JSON.parse(result.stdout)).toEqual({
      error: { code: 'not_found', message: "key 'NoSuchKey123' not found" },
    });
    expect(result.stderr).toBe("tollgate: key 'NoSuchKey123' not found\n");
  });

  it('turns a JSON log line into one human line', () => {
    // Act
    const line = humanLine(
      '{"level":"INFO","message":"request","timestamp":"2026-11-23T21:32:05.984Z","service":"tollgate","cold_start":false,"route":"GET /v1/models","status":200}',
    );

    // Assess
    expect(line).toBe('21:32:05 INFO request route=GET /v1/models status=200');
    expect(humanLine('plain text')).toBe('plain text');
  });
});

/** Runs the CLI on a real pseudo-terminal (util-linux `script`), answering its question with `answer`. */
async function onTerminal(args: string[], answer: string): Promise<{ code: number | null; output: string }> {
  const command = [process.execPath, CLI_ENTRY, ...args].map((a) => `'${a}'`).join(' ');
  const child = spawn('script', ['-qec', command, '/dev/null'], {
    env: { ...process.env, POWERTOOLS_LOG_LEVEL: 'SILENT' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (c: Buffer) => {
    output += c.toString();
    if (output.includes('[y/N]')) child.stdin.end(`${answer}\n`);
  });
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  return { code, output };
}

describe('destructive commands', () => {
  it('need --yes when there is no terminal to ask on, and change nothing without it', async () => {
    // Prepare
    const { id } = JSON.parse((await runCli('keys', 'create', '--name', 'precious', '--json')).stdout) as {
      id: string;
    };

    // Act
    const refused = [];
    for (const argv of [
      ['keys', 'delete', id],
      ['keys', 'rotate', id],
      ['keys', 'disable', id],
      ['teams', 'delete', 'x'],
      ['teams', 'disable', 'x'],
      ['providers', 'remove', 'x'],
      ['providers', 'credentials', 'remove', 'x', 'cred_x'],
      ['aliases', 'remove', 'x'],
    ])
      refused.push(await runCli(...argv));
    const shown = JSON.parse((await runCli('keys', 'show', id, '--json')).stdout) as { status: string };
    const confirmed = await runCli('keys', 'delete', id, '--yes');

    // Assess
    expect(refused.map((r) => r.code)).toEqual([2, 2, 2, 2, 2, 2, 2, 2]);
    expect(refused[0]?.stderr.split('\n')[0]).toBe(
      'tollgate: keys delete cannot be undone: add --yes to confirm (there is no terminal to ask on)',
    );
    expect(shown.status).toBe('active');
    expect(confirmed.code).toBe(0);
  });

  it('ask on a terminal, and only yes goes ahead', async () => {
    // Prepare
    const { id } = JSON.parse((await runCli('keys', 'create', '--name', 'asked', '--json')).stdout) as {
      id: string;
    };

    // Act
    const declined = await onTerminal(['keys', 'delete', id], 'n');
    const stillThere = await runCli('keys', 'show', id);
    const accepted = await onTerminal(['keys', 'delete', id], 'y');
    const gone = await runCli('keys', 'show', id);

    // Assess
    expect(declined.code).toBe(1);
    expect(declined.output).toContain(`Delete key ${id}? This cannot be undone. [y/N]`);
    expect(declined.output).toContain('Nothing changed.');
    expect(stillThere.code).toBe(0);
    expect(accepted.code).toBe(0);
    expect(accepted.output).toContain(`Key ${id} deleted`);
    expect(gone.code).toBe(1);
  }, 60_000);

  it('asks before --sync only', async () => {
    // Prepare
    const ring = join(home(), 'ring.txt');
    writeFileSync(ring, `${'d'.repeat(64)}\n`);

    // Act
    const plain = await runCli('keys', 'import', ring);
    const sync = await runCli('keys', 'import', ring, '--sync');

    // Assess
    expect(plain.code).toBe(0);
    expect(sync.code).toBe(2);
  });
});

describe('key status', () => {
  it('shows a key past its expiry as expired', async () => {
    // Prepare: a key whose expiry has passed (the CLI only accepts future dates, so straight through the store).
    const created = await withLocalStores((stores) =>
      stores.keys.create({ name: 'old', expiresAt: '2020-01-01T00:00:00.000Z' }),
    );

    // Act
    const shown = await runCli('keys', 'show', created.key.keyId, '--json');
    const listed = await runCli('keys', 'list');

    // Assess
    expect(JSON.parse(shown.stdout)).toMatchObject({ status: 'expired' });
    expect(listed.stdout).toMatch(new RegExp(`${created.key.keyId}\\s+old\\s+expired`));
  });
});
