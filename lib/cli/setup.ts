/**
 * `tollgate setup claude-code|codex|opencode`: prints one ready-to-run command, for bash/zsh or
 * PowerShell, that merges the gateway's settings into the coding tool's own configuration files. Each tool
 * is offered only models its wire API reaches (the gateway's `/v1/models` says each model's `api`): Claude
 * Code speaks Anthropic's Messages API, Codex OpenAI's Responses API, OpenCode one provider per API the key
 * can use. The command runs `setup-apply.cjs` with Node (which every one of these tools installs with): it
 * keeps every setting Tollgate does not own, backs up a file before changing it, and changes nothing when
 * run again. The key goes only into files readable by their owner alone.
 */
import { readFileSync } from 'node:fs';
import { API_SHAPE_NAMES, type ApiShape } from '#shared/apis.ts';
import { UsageError } from './output.ts';

export type Os = 'macos' | 'linux' | 'windows';

/** A model the key may use and the client API that reaches it. */
export interface CatalogueModel {
  id: string;
  api: ApiShape;
}

/** What a generated command needs. */
export interface SetupInput {
  tool: Tool;
  os: Os;
  gatewayUrl: string;
  key: string;
  /** Models the key may use, from the gateway's `/v1/models`. */
  available: readonly CatalogueModel[];
  model?: string | undefined;
  haiku?: string | undefined;
  sonnet?: string | undefined;
  opus?: string | undefined;
}

/** One file the command merges into; see setup-apply.cjs for each kind's merge. */
export type FilePlan = { path: string; secret: boolean } & (
  | { kind: 'json'; set: Array<[string[], unknown]> }
  | { kind: 'toml'; top: Record<string, string>; tables: Record<string, Record<string, string>> }
  | { kind: 'text'; content: string }
);

/** Everything the printed command does. */
export interface SetupPlan {
  files: FilePlan[];
  notes: string[];
}

const ids = (input: SetupInput, api: ApiShape): string[] =>
  input.available.filter((m) => m.api === api).map((m) => m.id);

function pick(pool: readonly string[], wanted: string | undefined, hint: RegExp, label: string): string {
  if (wanted !== undefined) {
    if (!pool.includes(wanted)) {
      throw new UsageError(
        `${label} '${wanted}' is not among the models this key may use through this tool's API: ${pool.join(', ') || '(none)'}`,
      );
    }
    return wanted;
  }
  const found = pool.find((m) => hint.test(m)) ?? pool[0];
  if (found === undefined) throw new UsageError(`${label}: no model to choose from`);
  return found;
}

/** A tool's refusal when the key reaches none of the models its API serves. */
function requireModels(pool: readonly string[], tool: string, api: string, route: string): void {
  if (pool.length > 0) return;
  throw new UsageError(
    `${tool} speaks only the ${api} API (${route}), and this key may use no model served by it: register a provider of that API (tollgate providers add NAME --type …) or issue a key whose --models include one`,
  );
}

/** The env file Codex and OpenCode read the key from (they reference `TOLLGATE_API_KEY`). */
function keyFile(input: SetupInput, dir: string): { file: FilePlan; note: string } {
  if (input.os === 'windows') {
    return {
      file: {
        path: `${dir}/tollgate.env.ps1`,
        secret: true,
        kind: 'text',
        content: `$env:TOLLGATE_API_KEY = '${input.key.replaceAll("'", "''")}'\n`,
      },
      note: `Then: . (Join-Path $HOME "${dir.replaceAll('/', '\\')}\\tollgate.env.ps1")  # add it to your $PROFILE`,
    };
  }
  return {
    file: {
      path: `${dir}/tollgate.env`,
      secret: true,
      kind: 'text',
      content: `export TOLLGATE_API_KEY='${input.key.replaceAll("'", `'"'"'`)}'\n`,
    },
    note: `Then: . "$HOME/${dir}/tollgate.env"  # add it to your shell profile`,
  };
}

function claudeCode(input: SetupInput): SetupPlan {
  const pool = ids(input, 'anthropic');
  requireModels(pool, 'Claude Code', 'Anthropic Messages', '/v1/messages');
  const env = {
    ANTHROPIC_BASE_URL: input.gatewayUrl,
    ANTHROPIC_AUTH_TOKEN: input.key,
    ANTHROPIC_DEFAULT_HAIKU_MODEL: pick(pool, input.haiku ?? input.model, /haiku/i, '--haiku'),
    ANTHROPIC_DEFAULT_SONNET_MODEL: pick(pool, input.sonnet ?? input.model, /sonnet/i, '--sonnet'),
    ANTHROPIC_DEFAULT_OPUS_MODEL: pick(pool, input.opus ?? input.model, /opus/i, '--opus'),
  };
  return {
    // The settings file holds the key, so it is the owner's alone.
    files: [
      {
        path: '.claude/settings.json',
        secret: true,
        kind: 'json',
        set: Object.entries(env).map(([name, value]) => [['env', name], value]),
      },
    ],
    notes: [],
  };
}

function codex(input: SetupInput): SetupPlan {
  const pool = ids(input, 'openai');
  requireModels(pool, 'Codex', 'OpenAI Responses', '/v1/responses');
  const key = keyFile(input, '.codex');
  return {
    files: [
      {
        path: '.codex/config.toml',
        secret: false,
        kind: 'toml',
        top: { model: pick(pool, input.model, /gpt|codex|o\d/i, '--model'), model_provider: 'tollgate' },
        tables: {
          'model_providers.tollgate': {
            name: 'Tollgate',
            base_url: `${input.gatewayUrl}/v1`,
            env_key: 'TOLLGATE_API_KEY',
            wire_api: 'responses',
          },
        },
      },
      key.file,
    ],
    notes: [key.note],
  };
}

/** OpenCode's provider package and base URL for each client API, in the order a default is chosen. */
const OPENCODE_PROVIDERS: Record<ApiShape, { npm: string; path: string; name: string }> = {
  openai: { npm: '@ai-sdk/openai-compatible', path: '/v1', name: 'Tollgate (OpenAI API)' },
  anthropic: { npm: '@ai-sdk/anthropic', path: '/v1', name: 'Tollgate (Anthropic API)' },
  gemini: { npm: '@ai-sdk/google', path: '/v1beta', name: 'Tollgate (Gemini API)' },
};

function openCode(input: SetupInput): SetupPlan {
  const pools = API_SHAPE_NAMES.map((api) => ({ api, provider: `tollgate-${api}`, models: ids(input, api) }));
  const usable = pools.filter((p) => p.models.length > 0);
  const chosen =
    input.model === undefined ? usable[0] : usable.find((p) => p.models.includes(input.model ?? ''));
  if (chosen === undefined) {
    throw new UsageError(
      input.model === undefined
        ? 'this key may use no model: register a provider with its models, or issue a key whose --models include some'
        : `--model '${input.model}' is not among the models this key may use: ${input.available.map((m) => m.id).join(', ') || '(none)'}`,
    );
  }
  const set: Array<[string[], unknown]> = [
    [['$schema'], 'https://opencode.ai/config.json'],
    [['model'], `${chosen.provider}/${input.model ?? chosen.models[0]}`],
    // The single provider earlier versions of this command wrote.
    [['provider', 'tollgate'], null],
    ...pools.map(({ api, provider, models }): [string[], unknown] => [
      ['provider', provider],
      models.length === 0
        ? null
        : {
            npm: OPENCODE_PROVIDERS[api].npm,
            name: OPENCODE_PROVIDERS[api].name,
            options: {
              baseURL: `${input.gatewayUrl}${OPENCODE_PROVIDERS[api].path}`,
              apiKey: '{env:TOLLGATE_API_KEY}',
            },
            models: Object.fromEntries(models.map((m) => [m, { name: m }])),
          },
    ]),
  ];
  const key = keyFile(input, '.config/opencode');
  return {
    files: [{ path: '.config/opencode/opencode.json', secret: false, kind: 'json', set }, key.file],
    notes: [key.note],
  };
}

/** The tools `setup` configures, each with what it writes. */
export const TOOL_PLANS = {
  'claude-code': claudeCode,
  codex,
  opencode: openCode,
} as const satisfies Record<string, (input: SetupInput) => SetupPlan>;

export type Tool = keyof typeof TOOL_PLANS;
export const TOOLS = Object.keys(TOOL_PLANS) as Tool[];

/** What the command for `input` will do. */
export function setupPlan(input: SetupInput): SetupPlan {
  return TOOL_PLANS[input.tool](input);
}

const APPLY_SOURCE = readFileSync(new URL('./setup-apply.cjs', import.meta.url), 'utf8');

/** The command to paste, for the tool and shell asked for. */
export function setupCommand(input: SetupInput): string {
  const plan = Buffer.from(JSON.stringify(setupPlan(input))).toString('base64');
  const script = Buffer.from(APPLY_SOURCE).toString('base64');
  // Base64 holds no quote, space or `$`: neither shell can mangle it.
  return input.os === 'windows'
    ? `$env:TOLLGATE_SETUP='${plan}'; node -e "eval(Buffer.from('${script}','base64').toString())"; Remove-Item Env:TOLLGATE_SETUP`
    : `TOLLGATE_SETUP='${plan}' node -e 'eval(Buffer.from("${script}","base64").toString())'`;
}

/** Asks the gateway which models the key may use, and which API serves each. */
export async function modelsForKey(gatewayUrl: string, key: string): Promise<CatalogueModel[]> {
  let response: Response;
  try {
    response = await fetch(`${gatewayUrl}/v1/models`, { headers: { authorization: `Bearer ${key}` } });
  } catch {
    throw new Error(`cannot reach the gateway at ${gatewayUrl}: start it (npm start) or pass --url`);
  }
  if (response.status === 401) throw new UsageError('the gateway refused that key');
  if (!response.ok) throw new Error(`the gateway answered ${response.status} to /v1/models`);
  const body = (await response.json()) as { data: Array<{ id: string; api?: string }> };
  return body.data.map((m) => ({
    id: m.id,
    // A gateway from before models said their API served OpenAI's.
    api: API_SHAPE_NAMES.find((name) => name === m.api) ?? 'openai',
  }));
}
