/**
 * `tollgate setup claude-code|codex|opencode`: prints one ready-to-run command, for bash/zsh or
 * PowerShell, that writes the coding tool's own configuration to use the gateway. The key goes only into
 * files readable by their owner alone (mode 0600), or into the tool's environment; configuration that
 * is not secret stays world-readable as usual.
 */
import { UsageError } from './output.ts';

export const TOOLS = ['claude-code', 'codex', 'opencode'] as const;
export type Tool = (typeof TOOLS)[number];
export type Os = 'macos' | 'linux' | 'windows';

/** What a generated command needs. */
export interface SetupInput {
  tool: Tool;
  os: Os;
  gatewayUrl: string;
  key: string;
  /** Models the key may use, from the gateway's `/v1/models`. */
  available: readonly string[];
  model?: string | undefined;
  haiku?: string | undefined;
  sonnet?: string | undefined;
  opus?: string | undefined;
}

function pick(available: readonly string[], wanted: string | undefined, hint: RegExp, label: string): string {
  if (wanted !== undefined) {
    if (!available.includes(wanted)) {
      throw new UsageError(
        `${label} '${wanted}' is not among the models this key may use: ${available.join(', ') || '(none)'}`,
      );
    }
    return wanted;
  }
  const found = available.find((m) => hint.test(m)) ?? available[0];
  if (found === undefined)
    throw new UsageError('this key may use no model: register a provider with --models, or widen the key');
  return found;
}

/** Single-quoted for POSIX shells. */
const sh = (value: string): string => `'${value.replaceAll("'", `'"'"'`)}'`;
/** Single-quoted for PowerShell. */
const ps = (value: string): string => `'${value.replaceAll("'", "''")}'`;

/** Claude Code's settings: gateway base URL, the key as its auth token, the three workloads mapped to slugs. */
export function claudeCodeSettings(input: SetupInput): Record<string, unknown> {
  const anthropic = input.available.filter((m) => /claude|anthropic/i.test(m));
  const pool = anthropic.length > 0 ? anthropic : input.available;
  return {
    env: {
      ANTHROPIC_BASE_URL: input.gatewayUrl,
      ANTHROPIC_AUTH_TOKEN: input.key,
      ANTHROPIC_DEFAULT_HAIKU_MODEL: pick(pool, input.haiku ?? input.model, /haiku/i, '--haiku'),
      ANTHROPIC_DEFAULT_SONNET_MODEL: pick(pool, input.sonnet ?? input.model, /sonnet/i, '--sonnet'),
      ANTHROPIC_DEFAULT_OPUS_MODEL: pick(pool, input.opus ?? input.model, /opus/i, '--opus'),
    },
  };
}

function codexConfig(input: SetupInput): string {
  const model = pick(input.available, input.model, /gpt|o\d/i, '--model');
  return [
    `model = "${model}"`,
    'model_provider = "tollgate"',
    '',
    '[model_providers.tollgate]',
    'name = "Tollgate"',
    `base_url = "${input.gatewayUrl}/v1"`,
    'env_key = "TOLLGATE_API_KEY"',
    'wire_api = "chat"',
    '',
  ].join('\n');
}

function openCodeConfig(input: SetupInput): Record<string, unknown> {
  const model = pick(input.available, input.model, /./, '--model');
  return {
    $schema: 'https://opencode.ai/config.json',
    model: `tollgate/${model}`,
    provider: {
      tollgate: {
        npm: '@ai-sdk/openai-compatible',
        name: 'Tollgate',
        options: { baseURL: `${input.gatewayUrl}/v1`, apiKey: '{env:TOLLGATE_API_KEY}' },
        models: Object.fromEntries(input.available.map((m) => [m, { name: m }])),
      },
    },
  };
}

/** A bash/zsh command writing `content` to `path` (relative to $HOME) with `mode`, creating its folder. */
function writeSh(path: string, content: string, mode: '600' | '644'): string {
  return `mkdir -p "$HOME/${path.split('/').slice(0, -1).join('/')}" && (umask 077 && printf '%s' ${sh(content)} > "$HOME/${path}") && chmod ${mode} "$HOME/${path}"`;
}

/** The PowerShell equivalent; the ACL is reduced to the current user for secret files. */
function writePs(path: string, content: string, secret: boolean): string {
  const target = `Join-Path $HOME ${ps(path.replaceAll('/', '\\'))}`;
  const lines = [
    `$p = ${target}`,
    'New-Item -ItemType Directory -Force -Path (Split-Path $p) | Out-Null',
    `Set-Content -Path $p -Value ${ps(content)} -NoNewline -Encoding utf8`,
  ];
  if (secret) lines.push('icacls $p /inheritance:r /grant:r "$($env:USERNAME):(R,W)" | Out-Null');
  return lines.join('; ');
}

/** The command to paste, for the tool and shell asked for. */
export function setupCommand(input: SetupInput): string {
  const posix = input.os !== 'windows';
  const write = (path: string, content: string, secret: boolean): string =>
    posix ? writeSh(path, content, secret ? '600' : '644') : writePs(path, content, secret);
  const envFile = (dir: string): string =>
    posix
      ? write(`${dir}/tollgate.env`, `export TOLLGATE_API_KEY=${sh(input.key)}\n`, true)
      : write(`${dir}/tollgate.env.ps1`, `$env:TOLLGATE_API_KEY = ${ps(input.key)}\n`, true);
  const sourceHint = (dir: string): string =>
    posix
      ? `echo 'Then: . "$HOME/${dir}/tollgate.env" (add it to your shell profile)'`
      : `Write-Output '. (Join-Path $HOME "${dir}\\tollgate.env.ps1")  # add to your $PROFILE'`;
  const join = posix ? ' && ' : '; ';
  switch (input.tool) {
    case 'claude-code':
      // The settings file holds the key, so it is the owner's alone.
      return write('.claude/settings.json', `${JSON.stringify(claudeCodeSettings(input), null, 2)}\n`, true);
    case 'codex':
      return [
        write('.codex/config.toml', codexConfig(input), false),
        envFile('.codex'),
        sourceHint('.codex'),
      ].join(join);
    case 'opencode':
      return [
        write('.config/opencode/opencode.json', `${JSON.stringify(openCodeConfig(input), null, 2)}\n`, false),
        envFile('.config/opencode'),
        sourceHint('.config/opencode'),
      ].join(join);
  }
}

/** Asks the gateway which models the key may use. */
export async function modelsForKey(gatewayUrl: string, key: string): Promise<string[]> {
  let response: Response;
  try {
    response = await fetch(`${gatewayUrl}/v1/models`, { headers: { authorization: `Bearer ${key}` } });
  } catch {
    throw new Error(`cannot reach the gateway at ${gatewayUrl}: start it (npm start) or pass --url`);
  }
  if (response.status === 401) throw new UsageError('the gateway refused that key');
  if (!response.ok) throw new Error(`the gateway answered ${response.status} to /v1/models`);
  const body = (await response.json()) as { data: Array<{ id: string }> };
  return body.data.map((m) => m.id);
}
