/**
 * The `tollgate` command table: one entry per command, from which parsing, `--help`, unknown-command and
 * unknown-flag errors with suggestions and the README's CLI table are all made (lib/cli/program.ts).
 *
 * Adding a command is adding one entry:
 *   1. Put the command's logic in its own module under lib/cli/ — or, for a management change that `/admin`
 *      offers too, an operation in lambdas/shared/operations/ and `operationCommand({ …, operation, print })`
 *      (lib/cli/operation-command.ts), whose options fill the operation's input fields.
 *   2. Append `command({ name, summary, positionals, options, examples, run })` to the table below. Option
 *      keys are camelCase and become kebab-case flags (`monthlyLimit` → `--monthly-limit`); `args` and
 *      `options` in `run` are typed from the declaration. `--json`, `--yes`, `--stack`, `--region` are
 *      global (in `global`). Check input before calling `withStores`, so mistakes exit 2 before DynamoDB
 *      Local starts. Return the exit code or nothing (0); throw UsageError for 2, anything else for 1.
 *   3. Run `npm run readme:cli` to regenerate the README's CLI table (a test fails until it matches).
 * A new group (`foo bar`) needs a one-line summary in GROUPS.
 */

import { reconcileReservations } from '#shared/operations/reservations.ts';
import { runDev } from '../local/dev.ts';
import { openLocalState, readRuntime } from '../local/state.ts';
import { auditCommand } from './audit.ts';
import { type CommandEntry, command } from './command-spec.ts';
import { doctorCommand } from './doctor.ts';
import { KEY_COMMANDS } from './keys.ts';
import { routeLogs } from './logging.ts';
import { operationCommand } from './operation-command.ts';
import { UsageError } from './output.ts';
import { PROVIDER_COMMANDS } from './providers.ts';
import { settingsCommand } from './settings.ts';
import { modelsForKey, setupCommand, TOOLS, type Tool } from './setup.ts';
import { statusCommand } from './status.ts';
import { TEAM_COMMANDS } from './teams.ts';
import { USAGE_COMMANDS } from './usage.ts';

/** Summaries of the command groups. */
export const GROUPS: Readonly<Record<string, string>> = {
  keys: 'API keys: create, list, show, disable, enable, rotate, delete, import',
  teams: 'teams (workspaces) with an optional monthly budget',
  models: 'model prices',
  audit: 'the audit log and its verification',
  providers: 'upstream providers and their credentials',
  'providers credentials': 'the credentials of one provider',
  'providers models': "a provider's model catalogue",
  aliases: 'model aliases resolving to targets tried in order',
  reservations: 'spend reserved by requests in flight',
};

/** Every command, in the order help and the README list them. */
export const COMMANDS: readonly CommandEntry[] = [
  command({
    name: 'dev',
    summary:
      'run the local gateway on 127.0.0.1 (npm start runs this); Ctrl-C stops everything, data stays (not with --in-memory)',
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
      inMemory: {
        type: 'boolean',
        summary: 'keep the data in memory, not in the state folder: nothing stays after Ctrl-C',
      },
    },
    examples: [
      'tollgate dev',
      'PORT=9000 tollgate dev --cache-ttl 0 --log-format json',
      'tollgate dev --in-memory',
    ],
    run: async ({ options }) => {
      const format = options.logFormat ?? (process.stderr.isTTY === true ? 'human' : 'json');
      if (format !== 'human' && format !== 'json') throw new UsageError('--log-format must be human or json');
      const restore = routeLogs(format);
      try {
        await runDev({
          port: options.port ?? 8787,
          authorizerCacheTtlSeconds: options.cacheTtl ?? 60,
          inMemory: options.inMemory === true,
          print: (text) => process.stdout.write(text),
        });
      } finally {
        restore();
      }
      return 0;
    },
  }),
  ...KEY_COMMANDS,
  ...TEAM_COMMANDS,
  ...USAGE_COMMANDS,
  command({
    name: 'audit list',
    summary: 'the audit log (--action key. matches every key action)',
    options: {
      since: { type: 'string', value: 'DATE', summary: 'records from this time' },
      actor: { type: 'string', value: 'A', summary: 'records by this actor' },
      target: {
        type: 'string',
        value: 'ID|NAME',
        summary: 'records about this id, or every key or team that bore this name',
      },
      action: { type: 'string', value: 'X', summary: 'actions starting with X' },
    },
    examples: ['tollgate audit list --action key. --since 2026-11-01'],
    run: ({ options, global, withStores }) =>
      withStores(() => auditCommand('list', { ...options, json: global.json })),
  }),
  command({
    name: 'audit verify',
    summary:
      'check the log against the signed digests in the digest store, up to now: exit 0 intact, 1 broken, naming the first bad record, digest or gap',
    examples: ['tollgate audit verify'],
    run: ({ global, withStores }) => withStores(() => auditCommand('verify', { json: global.json })),
  }),
  command({
    name: 'setup',
    summary:
      "print one command that merges the gateway into a coding tool's configuration with only models its API reaches (keeps your settings, backs up what it changes, idempotent; the key only in owner-only files)",
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
  ...PROVIDER_COMMANDS,
  command({
    name: 'settings',
    summary:
      'installation settings: the price of unpriced models, the monthly budget; without options, shows them',
    options: {
      defaultInput: {
        type: 'string',
        value: 'USD_PER_MTOK',
        summary: 'default input price of unpriced models',
      },
      defaultOutput: {
        type: 'string',
        value: 'USD_PER_MTOK',
        summary: 'default output price of unpriced models',
      },
      clearDefaultPrice: { type: 'boolean', summary: 'refuse unpriced models to limited keys again' },
      budget: {
        type: 'string',
        value: 'USD',
        summary: 'monthly budget over every key (402 billing_shortfall)',
      },
      clearBudget: { type: 'boolean', summary: 'remove the installation budget' },
      budgetShards: {
        type: 'string',
        value: 'N',
        summary: 'counters the budget is split over, from next month',
      },
    },
    examples: [
      'tollgate settings --default-input 3 --default-output 15',
      'tollgate settings --budget 5000 --budget-shards 16',
      'tollgate settings --json',
    ],
    run: ({ options, global, withStores }) =>
      withStores(settingsCommand({ ...options, json: global.json })).then(() => 0),
  }),
  operationCommand({
    name: 'reservations reconcile',
    summary: 'bill expired reservations no request settled, at their estimate (AWS runs it hourly)',
    examples: ['tollgate reservations reconcile'],
    operation: reconcileReservations,
    print: (result) => process.stdout.write(`${result.reconciled} expired reservation(s) billed.\n`),
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
  command({
    name: 'doctor',
    summary:
      'prove the installation end to end at no provider cost (temporary echo provider and keys); exit 0 all pass, 1 otherwise',
    options: { long: { type: 'boolean', summary: 'also stream one answer for 31 s, past the 29 s limit' } },
    examples: ['tollgate doctor', 'tollgate doctor --stack Tollgate --json'],
    run: ({ options, global }) => doctorCommand({ ...global, long: options.long }),
  }),
];
