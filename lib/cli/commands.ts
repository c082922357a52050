/**
 * The `tollgate` command table: one entry per command, from which parsing, `--help`, unknown-command and
 * unknown-flag errors with suggestions and the README's CLI table are all made (lib/cli/program.ts).
 *
 * Adding a command is adding one entry:
 *   1. Put the command's logic in its own module under lib/cli/ (or an operation under lambdas/shared/).
 *   2. Append `command({ name, summary, positionals, options, examples, run })` to the table below. Option
 *      keys are camelCase and become kebab-case flags (`monthlyLimit` → `--monthly-limit`); `args` and
 *      `options` in `run` are typed from the declaration. `--json`, `--yes`, `--stack`, `--region` are
 *      global (in `global`). Check input before calling `withStores`, so mistakes exit 2 before DynamoDB
 *      Local starts. Return the exit code or nothing (0); throw UsageError for 2, anything else for 1.
 *   3. Run `npm run readme:cli` to regenerate the README's CLI table (a test fails until it matches).
 * A new group (`foo bar`) needs a one-line summary in GROUPS.
 */

import { runDev } from '../local/dev.ts';
import { openLocalState, readRuntime } from '../local/state.ts';
import { auditCommand } from './audit.ts';
import { keysCommand } from './keys.ts';
import { routeLogs } from './logging.ts';
import { UsageError } from './output.ts';
import { type CommandEntry, command } from './program.ts';
import { aliasesCommand, providersCommand } from './providers.ts';
import { modelsForKey, setupCommand, TOOLS, type Tool } from './setup.ts';
import { statusCommand } from './status.ts';
import { modelsCommand, teamsCommand, usageCommand } from './teams.ts';

/** Summaries of the command groups. */
export const GROUPS: Readonly<Record<string, string>> = {
  keys: 'API keys: create, list, show, disable, enable, rotate, delete, import',
  teams: 'teams (workspaces) with an optional monthly budget',
  models: 'model prices',
  audit: 'the audit log and its verification',
  providers: 'upstream providers and their credentials',
  'providers credentials': 'the credentials of one provider',
  aliases: 'model aliases resolving to targets tried in order',
};

const keyLimits = {
  models: {
    type: 'string',
    value: 'a/b,c/*',
    summary: 'allowed provider/model slugs; empty means every model',
  },
  team: { type: 'string', value: 'ID', summary: 'the team the key belongs to' },
  monthlyLimit: { type: 'string', value: 'USD', summary: 'monthly spend limit in USD' },
  rpm: { type: 'string', value: 'N', summary: 'requests per minute' },
  tpm: { type: 'string', value: 'N', summary: 'tokens per minute' },
} as const;

const credentialSource = {
  keyStdin: { type: 'boolean', summary: 'read the credential from stdin' },
  keyEnv: { type: 'string', value: 'VAR', summary: 'read the credential from environment variable VAR' },
  secretArn: { type: 'string', value: 'ARN', summary: 'a Secrets Manager reference (deployed stacks only)' },
  priority: { type: 'string', value: 'N', summary: 'lower is tried first' },
  expires: { type: 'string', value: 'DATE', summary: 'when the credential expires (ISO 8601)' },
} as const;

const idArg = [{ name: 'ID' }] as const;

/** A `keys` subcommand that takes an ID and nothing else. */
function keyById(sub: string, summary: string, example: string): CommandEntry {
  return command({
    name: `keys ${sub}`,
    summary,
    positionals: idArg,
    examples: [example],
    run: ({ args, global, withStores }) =>
      withStores((s) => keysCommand(s, sub, [args.ID], { json: global.json })).then(() => 0),
  });
}

/** A `teams` subcommand that takes an ID and nothing else. */
function teamById(sub: string, summary: string, example: string): CommandEntry {
  return command({
    name: `teams ${sub}`,
    summary,
    positionals: idArg,
    examples: [example],
    run: ({ args, global, withStores }) =>
      withStores((s) => teamsCommand(s, sub, [args.ID], { json: global.json })).then(() => 0),
  });
}

/** Every command, in the order help and the README list them. */
export const COMMANDS: readonly CommandEntry[] = [
  command({
    name: 'dev',
    summary: 'run the local gateway on 127.0.0.1 (npm start runs this); Ctrl-C stops everything, data stays',
    options: {
      port: { type: 'integer', value: 'N', env: 'PORT', summary: 'port on 127.0.0.1 (default 8787)' },
      cacheTtl: {
        type: 'integer',
        value: 'SECONDS',
        env: 'TOLLGATE_AUTHORIZER_CACHE_TTL',
        summary: "the authorizer cache's TTL (default 60)",
      },
      logFormat: {
        type: 'string',
        value: 'human|json',
        summary: 'log lines for people (default on a terminal) or JSON',
      },
    },
    examples: ['tollgate dev', 'PORT=9000 tollgate dev --cache-ttl 0 --log-format json'],
    run: async ({ options }) => {
      const format = options.logFormat ?? (process.stderr.isTTY === true ? 'human' : 'json');
      if (format !== 'human' && format !== 'json') throw new UsageError('--log-format must be human or json');
      const restore = routeLogs(format);
      try {
        await runDev({
          port: options.port ?? 8787,
          authorizerCacheTtlSeconds: options.cacheTtl ?? 60,
          print: (text) => process.stdout.write(text),
        });
      } finally {
        restore();
      }
      return 0;
    },
  }),
  command({
    name: 'keys create',
    summary: 'issue a key; the plaintext is printed once (--json: id, key, …)',
    options: {
      name: { type: 'string', value: 'NAME', summary: 'a name for people', required: true },
      ...keyLimits,
      expires: { type: 'string', value: 'DATE', summary: 'when the key stops working (ISO 8601)' },
    },
    examples: ["tollgate keys create --name ci --models 'openai/*' --monthly-limit 50 --rpm 60"],
    run: ({ options, global, withStores }) =>
      withStores((s) => keysCommand(s, 'create', [], { ...options, json: global.json })).then(() => 0),
  }),
  command({
    name: 'keys list',
    summary: 'list keys (never their hashes)',
    options: { team: keyLimits.team },
    examples: ['tollgate keys list --team team_AbC123xyZ789'],
    run: ({ options, global, withStores }) =>
      withStores((s) => keysCommand(s, 'list', [], { ...options, json: global.json })).then(() => 0),
  }),
  keyById('show', 'one key', 'tollgate keys show AbC123xyZ789'),
  keyById('disable', 'refuse the key until enabled again', 'tollgate keys disable AbC123xyZ789'),
  keyById('enable', 'accept a disabled key again', 'tollgate keys enable AbC123xyZ789'),
  command({
    name: 'keys rotate',
    summary: 'new secret, same id and history; the old secret is refused at once, or after --grace',
    positionals: idArg,
    options: {
      grace: { type: 'string', value: 'DURATION', summary: 'keep the old secret valid (30m, 2h, 7d)' },
    },
    examples: ['tollgate keys rotate AbC123xyZ789 --grace 1h'],
    run: ({ args, options, global, withStores }) =>
      withStores((s) => keysCommand(s, 'rotate', [args.ID], { ...options, json: global.json })).then(() => 0),
  }),
  keyById(
    'delete',
    'remove the key; its request log stays searchable by request id',
    'tollgate keys delete AbC123xyZ789',
  ),
  command({
    name: 'keys import',
    summary: 'import keys issued elsewhere, one label:sha256hex per line (# comments allowed)',
    positionals: [{ name: 'FILE' }],
    options: keyLimits,
    examples: ['tollgate keys import legacy.txt --team team_AbC123xyZ789'],
    run: ({ args, options, global, withStores }) =>
      withStores((s) => keysCommand(s, 'import', [args.FILE], { ...options, json: global.json })).then(
        () => 0,
      ),
  }),
  command({
    name: 'teams create',
    summary: 'a team (workspace) with an optional monthly budget',
    options: {
      name: { type: 'string', value: 'NAME', summary: 'a unique name', required: true },
      budget: { type: 'string', value: 'USD', summary: 'monthly budget in USD' },
    },
    examples: ['tollgate teams create --name platform --budget 500'],
    run: ({ options, global, withStores }) =>
      withStores((s) => teamsCommand(s, 'create', [], { ...options, json: global.json })).then(() => 0),
  }),
  command({
    name: 'teams list',
    summary: 'every team',
    examples: ['tollgate teams list --json'],
    run: ({ global, withStores }) =>
      withStores((s) => teamsCommand(s, 'list', [], { json: global.json })).then(() => 0),
  }),
  teamById('show', "one team with its keys and this month's spend", 'tollgate teams show team_AbC123xyZ789'),
  teamById(
    'disable',
    "refuse the team's keys until enabled again",
    'tollgate teams disable team_AbC123xyZ789',
  ),
  teamById('enable', 'accept a disabled team again', 'tollgate teams enable team_AbC123xyZ789'),
  teamById('delete', 'remove a team without keys', 'tollgate teams delete team_AbC123xyZ789'),
  command({
    name: 'models price',
    summary: 'set the price spend is computed from, in USD per million tokens',
    positionals: [{ name: 'PROVIDER/MODEL' }],
    options: {
      input: { type: 'string', value: 'USD_PER_MTOK', summary: 'input price', required: true },
      output: { type: 'string', value: 'USD_PER_MTOK', summary: 'output price', required: true },
    },
    examples: ['tollgate models price openai/gpt-4o --input 2.5 --output 10'],
    run: ({ args, options, global, withStores }) =>
      withStores((s) =>
        modelsCommand(s, 'price', [args['PROVIDER/MODEL']], { ...options, json: global.json }),
      ).then(() => 0),
  }),
  command({
    name: 'usage',
    summary: 'usage by day and model and spend this month; one request from the request log',
    options: {
      key: { type: 'string', value: 'ID', summary: 'one key' },
      team: { type: 'string', value: 'ID', summary: "a team's keys and its spend" },
      request: { type: 'string', value: 'ID', summary: 'the x-request-id of a response' },
    },
    examples: ['tollgate usage --team team_AbC123xyZ789', 'tollgate usage --request 6f1c…'],
    run: ({ options, global, withStores }) =>
      withStores((s) => usageCommand(s, { ...options, json: global.json })).then(() => 0),
  }),
  command({
    name: 'audit list',
    summary: 'the audit log (--action key. matches every key action)',
    options: {
      since: { type: 'string', value: 'DATE', summary: 'records from this time' },
      actor: { type: 'string', value: 'A', summary: 'records by this actor' },
      target: { type: 'string', value: 'ID', summary: 'records about this id' },
      action: { type: 'string', value: 'X', summary: 'actions starting with X' },
    },
    examples: ['tollgate audit list --action key. --since 2026-11-01'],
    run: ({ options, global, withStores }) =>
      withStores(() => auditCommand('list', { ...options, json: global.json })),
  }),
  command({
    name: 'audit verify',
    summary: 'walk the hash chain and the signed digests: exit 0 intact, 1 broken, naming the record',
    examples: ['tollgate audit verify'],
    run: ({ global, withStores }) => withStores(() => auditCommand('verify', { json: global.json })),
  }),
  command({
    name: 'setup',
    summary:
      'print one command that configures a coding tool for the gateway (the key goes only into owner-only files)',
    positionals: [{ name: 'TOOL' }],
    options: {
      key: { type: 'string', value: 'KEY', summary: 'the Tollgate key the tool will use', required: true },
      os: { type: 'string', value: 'macos|linux|windows', summary: 'the target system (default: this one)' },
      url: { type: 'string', value: 'URL', summary: 'the gateway URL (default: the running local gateway)' },
      model: { type: 'string', value: 'SLUG', summary: 'the model to use' },
      haiku: { type: 'string', value: 'SLUG', summary: "Claude Code's small model" },
      sonnet: { type: 'string', value: 'SLUG', summary: "Claude Code's default model" },
      opus: { type: 'string', value: 'SLUG', summary: "Claude Code's large model" },
    },
    examples: [
      'tollgate setup claude-code --key sk-tg-… | sh',
      'tollgate setup codex --key sk-tg-… --model openai/gpt-4o',
    ],
    run: async ({ args, options }) => {
      if (!(TOOLS as readonly string[]).includes(args.TOOL))
        throw new UsageError(`setup needs a tool: ${TOOLS.join(', ')}`);
      const os =
        options.os ??
        (process.platform === 'darwin' ? 'macos' : process.platform === 'win32' ? 'windows' : 'linux');
      if (os !== 'macos' && os !== 'linux' && os !== 'windows')
        throw new UsageError('--os must be macos, linux or windows');
      const gatewayUrl = (
        options.url ??
        readRuntime(openLocalState())?.gatewayUrl ??
        'http://127.0.0.1:8787'
      ).replace(/\/+$/, '');
      const available = await modelsForKey(gatewayUrl, options.key);
      process.stdout.write(
        `${setupCommand({ ...options, tool: args.TOOL as Tool, os, gatewayUrl, available })}\n`,
      );
      return 0;
    },
  }),
  command({
    name: 'providers add',
    summary:
      'register an upstream with its first credential; TYPE is openai, openai-compatible, anthropic or gemini',
    positionals: [{ name: 'NAME' }],
    options: {
      type: { type: 'string', value: 'TYPE', summary: 'openai | openai-compatible | anthropic | gemini' },
      baseUrl: {
        type: 'string',
        value: 'URL',
        summary: "the upstream's base URL, as its official SDK takes it",
      },
      models: { type: 'string', value: 'm1,m2', summary: 'the model catalogue' },
      ...credentialSource,
    },
    examples: [
      'tollgate providers add openai --type openai --base-url https://api.openai.com/v1 --models gpt-4o --key-env OPENAI_API_KEY',
    ],
    run: ({ args, options, global, withStores }) =>
      withStores((s) => providersCommand(s, 'add', [args.NAME], { ...options, json: global.json })).then(
        () => 0,
      ),
  }),
  command({
    name: 'providers list',
    summary: 'providers with their credential counts',
    examples: ['tollgate providers list'],
    run: ({ global, withStores }) =>
      withStores((s) => providersCommand(s, 'list', [], { json: global.json, keyStdin: false })).then(
        () => 0,
      ),
  }),
  command({
    name: 'providers remove',
    summary: 'remove a provider with all its credentials',
    positionals: [{ name: 'NAME' }],
    examples: ['tollgate providers remove openai'],
    run: ({ args, global, withStores }) =>
      withStores((s) =>
        providersCommand(s, 'remove', [args.NAME], { json: global.json, keyStdin: false }),
      ).then(() => 0),
  }),
  command({
    name: 'providers credentials add',
    summary: 'one more credential; lower priority is tried first; a duplicate value or ARN is refused',
    positionals: [{ name: 'NAME' }],
    options: credentialSource,
    examples: ['pbpaste | tollgate providers credentials add openai --key-stdin --priority 1'],
    run: ({ args, options, global, withStores }) =>
      withStores((s) =>
        providersCommand(s, 'credentials', ['add', args.NAME], { ...options, json: global.json }),
      ).then(() => 0),
  }),
  command({
    name: 'providers credentials list',
    summary: "a provider's credentials, never their values",
    positionals: [{ name: 'NAME' }],
    examples: ['tollgate providers credentials list openai'],
    run: ({ args, global, withStores }) =>
      withStores((s) =>
        providersCommand(s, 'credentials', ['list', args.NAME], { json: global.json, keyStdin: false }),
      ).then(() => 0),
  }),
  command({
    name: 'providers credentials remove',
    summary: 'remove one credential',
    positionals: [{ name: 'NAME' }, { name: 'CREDENTIAL_ID' }],
    examples: ['tollgate providers credentials remove openai cred_AbC123'],
    run: ({ args, global, withStores }) =>
      withStores((s) =>
        providersCommand(s, 'credentials', ['remove', args.NAME, args.CREDENTIAL_ID], {
          json: global.json,
          keyStdin: false,
        }),
      ).then(() => 0),
  }),
  command({
    name: 'aliases set',
    summary: 'a model name (e.g. fast) resolving to targets tried in order',
    positionals: [{ name: 'NAME' }],
    options: {
      targets: { type: 'string', value: 'p/m[,p/m…]', summary: 'targets in fallback order', required: true },
    },
    examples: ['tollgate aliases set fast --targets groq/llama-3.3-70b,openai/gpt-4o-mini'],
    run: ({ args, options, global, withStores }) =>
      withStores((s) => aliasesCommand(s, 'set', [args.NAME], { ...options, json: global.json })).then(
        () => 0,
      ),
  }),
  command({
    name: 'aliases list',
    summary: 'every alias with its targets',
    examples: ['tollgate aliases list'],
    run: ({ global, withStores }) =>
      withStores((s) => aliasesCommand(s, 'list', [], { json: global.json })).then(() => 0),
  }),
  command({
    name: 'aliases remove',
    summary: 'remove an alias',
    positionals: [{ name: 'NAME' }],
    examples: ['tollgate aliases remove fast'],
    run: ({ args, global, withStores }) =>
      withStores((s) => aliasesCommand(s, 'remove', [args.NAME], { json: global.json })).then(() => 0),
  }),
  command({
    name: 'status',
    summary:
      'credential health per provider; exit 0 ok, 1 a provider has no working credential, 2 a credential expires within 7 days',
    options: { check: { type: 'boolean', summary: 'probe each credential with a free authenticated GET' } },
    examples: ['tollgate status --check || alert-oncall'],
    run: ({ options, global, withStores }) =>
      withStores((s) => statusCommand(s, { json: global.json, check: options.check })),
  }),
];
