/**
 * `tollgate setup`: each generated bash command, run in a temporary HOME, writes the tool's configuration
 * pointing at a real local gateway, offering only the models the key may use, with the key in files
 * readable by their owner alone.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
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

function setup(...argv: string[]) {
  return runCli('setup', ...argv, '--url', gateway.url);
}

function runInHome(command: string): string {
  const home = mkdtempSync(join(tmpdir(), 'tollgate-home-'));
  const result = spawnSync('bash', ['-c', command], {
    env: { HOME: home, PATH: process.env.PATH },
    encoding: 'utf8',
  });
  expect(result.status).toBe(0);
  return home;
}

const mode = (path: string) => statSync(path).mode & 0o777;

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
  const { startGateway } = await import('../../../lib/local/gateway.ts');
  gateway = await startGateway({ port: 0, authorizerCacheTtlSeconds: 0 });
});

afterAll(async () => {
  await gateway?.close();
});

describe('tollgate setup', () => {
  it('configures Claude Code: gateway URL, the key as auth token, the three workloads mapped, mode 0600', async () => {
    // Act
    const { code, stdout } = await setup('claude-code', '--key', anthropicKey, '--os', 'linux');
    const home = runInHome(stdout);

    // Assess
    expect(code).toBe(0);
    const path = join(home, '.claude', 'settings.json');
    expect(mode(path)).toBe(0o600);
    expect(JSON.parse(readFileSync(path, 'utf8'))).toEqual({
      env: {
        ANTHROPIC_BASE_URL: gateway.url,
        ANTHROPIC_AUTH_TOKEN: anthropicKey,
        ANTHROPIC_DEFAULT_HAIKU_MODEL: 'anthropic/claude-haiku-4.5',
        ANTHROPIC_DEFAULT_SONNET_MODEL: 'anthropic/claude-sonnet-4.6',
        ANTHROPIC_DEFAULT_OPUS_MODEL: 'anthropic/claude-opus-4.5',
      },
    });
  });

  it('configures Codex CLI with a provider at the OpenAI-compatible base URL and the key in an owner-only env file', async () => {
    const { stdout } = await setup(
      'codex',
      '--key',
      openaiKey,
      '--os',
      'macos',
      '--model',
      'openai/gpt-4o-mini',
    );
    const home = runInHome(stdout);
    const config = readFileSync(join(home, '.codex', 'config.toml'), 'utf8');
    expect(config).toContain('model = "openai/gpt-4o-mini"');
    expect(config).toContain(`base_url = "${gateway.url}/v1"`);
    expect(config).toContain('env_key = "TOLLGATE_API_KEY"');
    expect(config).not.toContain(openaiKey);
    expect(mode(join(home, '.codex', 'tollgate.env'))).toBe(0o600);
    const exported = spawnSync(
      'bash',
      ['-c', `. "${join(home, '.codex', 'tollgate.env')}" && printf %s "$TOLLGATE_API_KEY"`],
      { encoding: 'utf8' },
    );
    expect(exported.stdout).toBe(openaiKey);
  });

  it('configures OpenCode with a provider entry offering only the key’s models', async () => {
    const { stdout } = await setup('opencode', '--key', openaiKey, '--os', 'linux');
    const home = runInHome(stdout);
    const config = JSON.parse(readFileSync(join(home, '.config', 'opencode', 'opencode.json'), 'utf8'));
    expect(config.provider.tollgate.options).toEqual({
      baseURL: `${gateway.url}/v1`,
      apiKey: '{env:TOLLGATE_API_KEY}',
    });
    expect(Object.keys(config.provider.tollgate.models)).toEqual(['openai/gpt-4o', 'openai/gpt-4o-mini']);
    expect(mode(join(home, '.config', 'opencode', 'tollgate.env'))).toBe(0o600);
  });

  it('refuses a model the key may not use, a refused key and an unknown tool, in one line', async () => {
    const outside = await setup('claude-code', '--key', openaiKey, '--opus', 'anthropic/claude-opus-4.5');
    expect(outside.code).toBe(2);
    expect(outside.stderr.split('\n')[0]).toBe(
      "tollgate: --opus 'anthropic/claude-opus-4.5' is not among the models this key may use: openai/gpt-4o, openai/gpt-4o-mini",
    );
    expect((await setup('codex', '--key', 'sk-tg-nope')).stderr.split('\n')[0]).toBe(
      'tollgate: the gateway refused that key',
    );
    expect((await setup('vim', '--key', openaiKey)).code).toBe(2);
  });

  it('writes a PowerShell command for Windows that locks the settings file to the user', async () => {
    const { stdout } = await setup('claude-code', '--key', anthropicKey, '--os', 'windows');
    expect(stdout).toContain("Join-Path $HOME '.claude\\settings.json'");
    expect(stdout).toContain('icacls $p /inheritance:r');
    expect(stdout).not.toContain('chmod');
  });
});
