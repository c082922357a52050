/**
 * `tollgate setup`: each generated bash command, run in a temporary HOME, merges the tool's configuration
 * pointing at a real local gateway, offering only models the tool's wire API reaches, with the key in
 * files readable by their owner alone; over an existing configuration it keeps the user's settings and a
 * backup, and a second run changes nothing. The PowerShell command is decoded and its plan applied too.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningGateway } from '../../../lib/local/gateway.ts';
import type { setupLocalEnv } from '../../helpers/local-env.ts';
import { runCli } from '../../helpers/run-cli.ts';

let gateway: RunningGateway;
let env: Awaited<ReturnType<typeof setupLocalEnv>>;
let anthropicKey: string;
let openaiKey: string;
let everyKey: string;

function setup(...argv: string[]) {
  return runCli('setup', ...argv, '--url', gateway.url);
}

function run(command: string, home: string, extraEnv: Record<string, string> = {}) {
  const result = spawnSync('bash', ['-c', command], {
    env: { HOME: home, PATH: process.env.PATH, ...extraEnv },
    encoding: 'utf8',
  });
  expect(result.stderr).toBe('');
  expect(result.status).toBe(0);
  return result.stdout;
}

const newHome = () => mkdtempSync(join(tmpdir(), 'tollgate-home-'));
const mode = (path: string) => statSync(path).mode & 0o777;
const read = (path: string) => readFileSync(path, 'utf8');

beforeAll(async () => {
  const { setupLocalEnv } = await import('../../helpers/local-env.ts');
  env = await setupLocalEnv();
  await env.stores.providers.add(
    {
      name: 'anthropic',
      type: 'anthropic',
      baseUrl: 'https://api.anthropic.com',
      models: ['claude-haiku-4.5', 'claude-sonnet-4.6', 'claude-opus-4.5'],
    },
    { secret: 'sk-ant-x' },
  );
  await env.stores.providers.add(
    {
      name: 'openai',
      type: 'openai',
      baseUrl: 'https://api.openai.com/v1',
      models: ['gpt-4o', 'gpt-4o-mini'],
    },
    { secret: 'sk-oa-x' },
  );
  anthropicKey = (await env.stores.keys.create({ name: 'claude', models: ['anthropic/*'] })).plaintext;
  openaiKey = (await env.stores.keys.create({ name: 'codex', models: ['openai/*'] })).plaintext;
  everyKey = (await env.stores.keys.create({ name: 'every' })).plaintext;
  const { startGateway } = await import('../../../lib/local/gateway.ts');
  gateway = await startGateway({ port: 0, authorizerCacheTtlSeconds: 0 });
});

afterAll(async () => {
  await gateway?.close();
});

describe('tollgate setup', () => {
  it('configures Claude Code with Anthropic-API models only, the key as auth token, mode 0600', async () => {
    // Act
    const { code, stdout } = await setup('claude-code', '--key', everyKey, '--os', 'linux');
    const home = newHome();
    run(stdout, home);

    // Assess
    expect(code).toBe(0);
    const path = join(home, '.claude', 'settings.json');
    expect(mode(path)).toBe(0o600);
    expect(JSON.parse(read(path))).toEqual({
      env: {
        ANTHROPIC_BASE_URL: gateway.url,
        ANTHROPIC_AUTH_TOKEN: everyKey,
        ANTHROPIC_DEFAULT_HAIKU_MODEL: 'anthropic/claude-haiku-4.5',
        ANTHROPIC_DEFAULT_SONNET_MODEL: 'anthropic/claude-sonnet-4.6',
        ANTHROPIC_DEFAULT_OPUS_MODEL: 'anthropic/claude-opus-4.5',
      },
    });
  });

  it('refuses Claude Code for a key with no Anthropic-API model, naming what to do', async () => {
    // Act
    const { code, stderr } = await setup('claude-code', '--key', openaiKey);

    // Assess
    expect(code).toBe(2);
    expect(stderr.split('\n')[0]).toBe(
      'tollgate: Claude Code speaks only the Anthropic Messages API (/v1/messages), and this key may use no model served by it: register a provider of that API (tollgate providers add NAME --type …) or issue a key whose --models include one',
    );
  });

  it('configures Codex on the Responses API with the key in an owner-only env file', async () => {
    // Act
    const { stdout } = await setup(
      'codex',
      '--key',
      everyKey,
      '--os',
      'macos',
      '--model',
      'openai/gpt-4o-mini',
    );
    const home = newHome();
    run(stdout, home);

    // Assess
    const config = read(join(home, '.codex', 'config.toml'));
    expect(config).toBe(
      [
        'model = "openai/gpt-4o-mini"',
        'model_provider = "tollgate"',
        '',
        '[model_providers.tollgate]',
        'name = "Tollgate"',
        `base_url = "${gateway.url}/v1"`,
        'env_key = "TOLLGATE_API_KEY"',
        'wire_api = "responses"',
        '',
      ].join('\n'),
    );
    expect(mode(join(home, '.codex', 'tollgate.env'))).toBe(0o600);
    expect(run('. "$HOME/.codex/tollgate.env" && printf %s "$TOLLGATE_API_KEY"', home)).toBe(everyKey);
    expect((await setup('codex', '--key', anthropicKey)).code).toBe(2);
  });

  it('configures OpenCode with one provider per API the key can use and a default that one serves', async () => {
    // Act
    const { stdout } = await setup('opencode', '--key', everyKey, '--os', 'linux');
    const home = newHome();
    run(stdout, home);

    // Assess
    const config = JSON.parse(read(join(home, '.config', 'opencode', 'opencode.json')));
    expect(config.model).toBe('tollgate-openai/openai/gpt-4o');
    expect(Object.keys(config.provider)).toEqual(['tollgate-openai', 'tollgate-anthropic']);
    expect(config.provider['tollgate-openai']).toMatchObject({
      npm: '@ai-sdk/openai-compatible',
      options: { baseURL: `${gateway.url}/v1`, apiKey: '{env:TOLLGATE_API_KEY}' },
    });
    expect(Object.keys(config.provider['tollgate-openai'].models)).toEqual([
      'openai/gpt-4o',
      'openai/gpt-4o-mini',
    ]);
    expect(config.provider['tollgate-anthropic'].npm).toBe('@ai-sdk/anthropic');
    expect(Object.keys(config.provider['tollgate-anthropic'].models)).toHaveLength(3);
    expect(mode(join(home, '.config', 'opencode', 'tollgate.env'))).toBe(0o600);
  });

  it('merges into existing files, keeping the user’s settings and a backup; a second run changes nothing', async () => {
    // Prepare
    const home = newHome();
    mkdirSync(join(home, '.claude'));
    mkdirSync(join(home, '.codex'));
    const settings = `${JSON.stringify({ theme: 'dark', env: { FOO: '1', ANTHROPIC_BASE_URL: 'https://old' } })}\n`;
    const toml =
      'model = "o3"\ncheck_for_update_on_startup = false # mine\n\n[model_providers.tollgate]\nwire_api = "chat"\n\n[analytics]\nenabled = false\n';
    writeFileSync(join(home, '.claude', 'settings.json'), settings);
    writeFileSync(join(home, '.codex', 'config.toml'), toml);
    const claude = (await setup('claude-code', '--key', anthropicKey, '--os', 'linux')).stdout;
    const codex = (await setup('codex', '--key', openaiKey, '--os', 'linux')).stdout;

    // Act
    const first = run(`${claude}\n${codex}`, home);
    const merged = [read(join(home, '.claude', 'settings.json')), read(join(home, '.codex', 'config.toml'))];
    const second = run(`${claude}\n${codex}`, home);

    // Assess
    const json = JSON.parse(merged[0] ?? '');
    expect(json.theme).toBe('dark');
    expect(json.env.FOO).toBe('1');
    expect(json.env.ANTHROPIC_BASE_URL).toBe(gateway.url);
    expect(merged[1]).toContain('check_for_update_on_startup = false # mine');
    expect(merged[1]).toContain('[analytics]\nenabled = false');
    expect(merged[1]).toContain('model = "openai/gpt-4o"');
    expect(merged[1]).toContain('wire_api = "responses"');
    expect(merged[1]).not.toContain('"chat"');
    expect(read(join(home, '.claude', 'settings.json.tollgate.bak'))).toBe(settings);
    expect(read(join(home, '.codex', 'config.toml.tollgate.bak'))).toBe(toml);
    expect(mode(join(home, '.claude', 'settings.json.tollgate.bak'))).toBe(0o600);
    expect(first).toContain(
      '~/.claude/settings.json: updated (previous version in ~/.claude/settings.json.tollgate.bak)',
    );
    expect(second).toContain('~/.claude/settings.json: already set up, unchanged');
    expect(second).toContain('~/.codex/config.toml: already set up, unchanged');
    expect(second).toContain('~/.codex/tollgate.env: already set up, unchanged');
    expect([read(join(home, '.claude', 'settings.json')), read(join(home, '.codex', 'config.toml'))]).toEqual(
      merged,
    );
    expect(read(join(home, '.claude', 'settings.json.tollgate.bak'))).toBe(settings);
  });

  it('prints PowerShell for Windows whose decoded plan writes the same configuration', async () => {
    // Act
    const { stdout } = await setup('codex', '--key', openaiKey, '--os', 'windows');
    const parsed =
      /^\$env:TOLLGATE_SETUP='([A-Za-z0-9+/=]+)'; node -e "eval\(Buffer\.from\('([A-Za-z0-9+/=]+)','base64'\)\.toString\(\)\)"; Remove-Item Env:TOLLGATE_SETUP\n$/.exec(
        stdout,
      );
    const home = newHome();
    const plan = parsed?.[1] ?? '';
    const script = Buffer.from(parsed?.[2] ?? '', 'base64').toString();
    writeFileSync(join(home, 'apply.cjs'), script);
    run('node "$HOME/apply.cjs"', home, { TOLLGATE_SETUP: plan });

    // Assess
    expect(parsed).not.toBeNull();
    expect(script).toBe(read(join(import.meta.dirname, '../../../lib/cli/setup-apply.cjs')));
    expect(read(join(home, '.codex', 'config.toml'))).toContain('wire_api = "responses"');
    expect(read(join(home, '.codex', 'tollgate.env.ps1'))).toBe(`$env:TOLLGATE_API_KEY = '${openaiKey}'\n`);
  });

  it('refuses a model the key may not use, a refused key and an unknown tool, in one line', async () => {
    const outside = await setup('claude-code', '--key', everyKey, '--opus', 'openai/gpt-4o');
    expect(outside.code).toBe(2);
    expect(outside.stderr.split('\n')[0]).toBe(
      "tollgate: --opus 'openai/gpt-4o' is not among the models this key may use through this tool's API: anthropic/claude-haiku-4.5, anthropic/claude-sonnet-4.6, anthropic/claude-opus-4.5",
    );
    expect((await setup('codex', '--key', 'sk-tg-nope')).stderr.split('\n')[0]).toBe(
      'tollgate: the gateway refused that key',
    );
    expect((await setup('vim', '--key', openaiKey)).code).toBe(2);
  });
});
