/**
 * The real coding agents from npm (Claude Code, Codex CLI, OpenCode; test/clients/package.json), each
 * configured only by running what `tollgate setup` prints, in a temporary HOME that already holds the
 * user's own settings (no telemetry, no update checks: nothing here may leave 127.0.0.1), then run
 * non-interactively through the local gateway against the wire-faithful fakes.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/run-cli.ts';
import { CLIENT_BIN, type Harness, startHarness } from './harness.ts';

let h: Harness;

beforeAll(async () => {
  h = await startHarness();
});

afterAll(async () => {
  await h?.close();
});

/** A fresh HOME holding the user's own settings files. */
function homeWith(files: Record<string, string>): string {
  const home = mkdtempSync(join(tmpdir(), 'tollgate-tool-home-'));
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(home, path)), { recursive: true });
    writeFileSync(join(home, path), content);
  }
  mkdirSync(join(home, 'project'));
  return home;
}

/**
 * Runs bash in `home/project` with nothing of this machine's environment but PATH; asynchronously, since
 * the gateway the tool calls runs in this process.
 */
async function bash(home: string, script: string) {
  const child = spawn('bash', ['-c', script], {
    cwd: join(home, 'project'),
    env: { HOME: home, PATH: `${CLIENT_BIN}:${process.env.PATH}`, TERM: 'dumb', NO_COLOR: '1', CI: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 150_000,
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => {
    stdout += c.toString();
  });
  child.stderr.on('data', (c: Buffer) => {
    stderr += c.toString();
  });
  const status = await new Promise<number | null>((resolve) => child.once('close', resolve));
  return { status, stdout, stderr };
}

/** Prints the setup command for `tool` and runs it in `home`, as a user would. */
async function setUp(tool: string, home: string, ...extra: string[]): Promise<void> {
  const printed = await runCli(
    'setup',
    tool,
    '--key',
    h.key,
    '--url',
    h.gateway.url,
    '--os',
    'linux',
    ...extra,
  );
  expect(printed.code).toBe(0);
  const applied = await bash(home, printed.stdout);
  expect(applied.stderr).toBe('');
  expect(applied.status).toBe(0);
}

const upstreamModels = (fake: { requests: Array<{ body: string }> }) =>
  new Set(fake.requests.map((r) => (JSON.parse(r.body || '{}') as { model?: string }).model));

describe('coding agents configured by tollgate setup', () => {
  it('claude -p answers through /v1/messages with an Anthropic-API model', { timeout: 180_000 }, async () => {
    // Prepare
    const home = homeWith({
      '.claude/settings.json': JSON.stringify({
        env: {
          DISABLE_AUTOUPDATER: '1',
          DISABLE_TELEMETRY: '1',
          CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
        },
      }),
    });
    await setUp('claude-code', home);
    h.fakes.anthropic.reset();

    // Act
    const run = await bash(home, 'claude -p "Say hello"');

    // Assess
    expect(run.stderr).toBe('');
    expect(run.stdout).toContain('Hello from the fake upstream.');
    expect(run.status).toBe(0);
    expect(
      [...upstreamModels(h.fakes.anthropic)].every((m) => h.fakes.anthropic.models.includes(m ?? '')),
    ).toBe(true);
    expect(h.fakes.anthropic.requests.length).toBeGreaterThan(0);
    const settings = JSON.parse(readFileSync(join(home, '.claude', 'settings.json'), 'utf8'));
    expect(settings.env.DISABLE_TELEMETRY).toBe('1');
  });

  it('codex exec answers through /v1/responses', { timeout: 180_000 }, async () => {
    // Prepare
    const home = homeWith({
      '.codex/config.toml': 'check_for_update_on_startup = false\n\n[analytics]\nenabled = false\n',
    });
    await setUp('codex', home, '--model', 'openai/gpt-4o-mini');
    h.fakes.openai.reset();

    // Act
    const run = await bash(
      home,
      '. "$HOME/.codex/tollgate.env" && codex exec --skip-git-repo-check "Say hello"',
    );

    // Assess
    expect(run.stdout).toContain('Hello from the fake upstream.');
    expect(run.status).toBe(0);
    expect(h.fakes.openai.requests.map((r) => r.path)).toContain('/v1/responses');
    expect(upstreamModels(h.fakes.openai)).toEqual(new Set(['gpt-4o-mini']));
  });

  it.each([
    ['its default (OpenAI API)', [], 'openai', '/v1/chat/completions'],
    [
      'an Anthropic model on /v1/messages',
      ['--model', 'tollgate-anthropic/anthropic/claude-sonnet-4.6'],
      'anthropic',
      '/v1/messages',
    ],
  ] as const)('opencode run answers with %s', { timeout: 180_000 }, async (_name, flags, api, path) => {
    // Prepare
    const home = homeWith({
      '.config/opencode/opencode.json': JSON.stringify({ autoupdate: false, share: 'disabled' }),
    });
    await setUp('opencode', home);
    const fake = h.fakes[api];
    fake.reset();

    // Act
    const run = await bash(
      home,
      `. "$HOME/.config/opencode/tollgate.env" && OPENCODE_DISABLE_MODELS_FETCH=1 opencode run ${flags.join(' ')} "Say hello"`,
    );

    // Assess
    expect(run.stdout).toContain('Hello from the fake upstream.');
    expect(run.status).toBe(0);
    expect(fake.requests.map((r) => new URL(r.path, 'http://x').pathname)).toContain(path);
  });
});
