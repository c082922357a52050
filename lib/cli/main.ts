/** The `tollgate` command line: parses arguments, dispatches, turns every failure into one line and an exit code. */
import { parseArgs } from 'node:util';
import { InputError } from '#shared/inputs.ts';
import { runDev } from '../local/dev.ts';
import { openLocalState, readRuntime } from '../local/state.ts';
import { red } from '../terminal.ts';
import { auditCommand } from './audit.ts';
import { type Stores, withLocalStores } from './context.ts';
import { COMMAND_HELP } from './help.ts';
import { keysCommand } from './keys.ts';
import { UsageError } from './output.ts';
import { aliasesCommand, providersCommand } from './providers.ts';
import { modelsForKey, setupCommand, TOOLS, type Tool } from './setup.ts';
import { withStackStores } from './stack-target.ts';
import { statusCommand } from './status.ts';
import { modelsCommand, teamsCommand, usageCommand } from './teams.ts';

export const USAGE = `Usage: tollgate [--stack NAME [--region R]] <command> [options]

Without --stack the CLI works on the local installation (npm start); with it, on the deployed stack NAME,
found by its CloudFormation outputs, acting as your IAM principal.

Commands:
  dev [--port N] [--cache-ttl SECONDS]        run the local gateway (npm start)
  keys create --name NAME [--models a/b,c/*] [--team ID] [--monthly-limit USD] [--rpm N] [--tpm N] [--expires DATE]
  keys list [--team ID] | show ID | disable ID | enable ID | delete ID
  keys rotate ID [--grace DURATION]           e.g. --grace 1h keeps the old secret valid for an hour
  keys import FILE [--team ID] [--models …] [--monthly-limit USD] [--rpm N] [--tpm N]   lines: label:sha256hex
  teams create --name NAME [--budget USD] | list | show ID | disable ID | enable ID | delete ID
  models price PROVIDER/MODEL --input USD_PER_MTOK --output USD_PER_MTOK
  usage [--key ID] [--team ID] [--request ID]
  audit list [--since DATE] [--actor A] [--target ID] [--action X] | verify   verify: exit 0 intact, 1 broken
  setup claude-code|codex|opencode --key KEY [--os macos|linux|windows] [--url URL]
        [--model SLUG | --haiku SLUG --sonnet SLUG --opus SLUG]   prints a command that configures the tool
  providers add NAME --type TYPE --base-url URL [--models m1,m2] (--key-stdin | --key-env VAR | --secret-arn ARN)
            [--priority N] [--expires DATE]      TYPE: openai | openai-compatible | anthropic | gemini
  providers list | remove NAME
  providers credentials add NAME (--key-stdin | --key-env VAR | --secret-arn ARN) [--priority N] [--expires DATE]
  providers credentials list NAME | remove NAME CREDENTIAL_ID
  aliases set NAME --targets provider/model[,provider/model…] | list | remove NAME
  status [--check]                            credential health: exit 0 ok, 1 no working credential, 2 expiring

Every command takes --json for machine-readable output; 'tollgate COMMAND --help' shows examples.
Colour only on a terminal, never with NO_COLOR set.
Exit codes: 0 ok, 1 failure, 2 usage error (status: see above).`;

const OPTIONS = {
  json: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
  name: { type: 'string' },
  models: { type: 'string' },
  expires: { type: 'string' },
  type: { type: 'string' },
  'base-url': { type: 'string' },
  'key-stdin': { type: 'boolean', default: false },
  'key-env': { type: 'string' },
  'secret-arn': { type: 'string' },
  priority: { type: 'string' },
  targets: { type: 'string' },
  check: { type: 'boolean', default: false },
  team: { type: 'string' },
  'monthly-limit': { type: 'string' },
  rpm: { type: 'string' },
  tpm: { type: 'string' },
  grace: { type: 'string' },
  stack: { type: 'string' },
  region: { type: 'string' },
  budget: { type: 'string' },
  input: { type: 'string' },
  output: { type: 'string' },
  key: { type: 'string' },
  request: { type: 'string' },
  since: { type: 'string' },
  os: { type: 'string' },
  url: { type: 'string' },
  model: { type: 'string' },
  haiku: { type: 'string' },
  sonnet: { type: 'string' },
  opus: { type: 'string' },
  actor: { type: 'string' },
  target: { type: 'string' },
  action: { type: 'string' },
  port: { type: 'string' },
  'cache-ttl': { type: 'string' },
} as const;

function nonNegativeInt(value: string | undefined, fallback: number, flag: string): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 0 || n > 65535 * 100)
    throw new UsageError(`${flag} must be a non-negative integer`);
  return n;
}

/** Stores for the target: the deployed stack named by --stack, else the local installation. */
function targetStores(values: { stack?: string | undefined; region?: string | undefined }) {
  return <T>(work: (stores: Stores) => Promise<T>): Promise<T> =>
    values.stack === undefined ? withLocalStores(work) : withStackStores(values.stack, values.region, work);
}

/** Runs the CLI; returns the exit code. Never throws. */
export async function main(argv: string[]): Promise<number> {
  try {
    let parsed: ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>;
    try {
      parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true });
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
    const { values, positionals } = parsed;
    const withStores = targetStores(values);
    const [command, sub, ...rest] = positionals;
    const helpFor = command === 'help' ? sub : command;
    if (values.help || command === undefined || command === 'help') {
      process.stdout.write(`${(helpFor !== undefined ? COMMAND_HELP[helpFor] : undefined) ?? USAGE}\n`);
      return command === undefined && !values.help ? 2 : 0;
    }
    switch (command) {
      case 'dev':
        await runDev({
          port: nonNegativeInt(values.port ?? process.env.PORT, 8787, '--port'),
          authorizerCacheTtlSeconds: nonNegativeInt(
            values['cache-ttl'] ?? process.env.TOLLGATE_AUTHORIZER_CACHE_TTL,
            60,
            '--cache-ttl',
          ),
          print: (text) => process.stdout.write(text),
        });
        return 0;
      case 'keys':
        if (sub === undefined)
          throw new UsageError(
            'keys needs a subcommand: create, list, show, disable, enable, rotate, delete',
          );
        await withStores((stores) =>
          keysCommand(stores, sub, rest, {
            json: values.json,
            name: values.name,
            models: values.models,
            expires: values.expires,
            team: values.team,
            monthlyLimit: values['monthly-limit'],
            rpm: values.rpm,
            tpm: values.tpm,
            grace: values.grace,
          }),
        );
        return 0;
      case 'teams':
        if (sub === undefined)
          throw new UsageError('teams needs a subcommand: create, list, show, disable, enable, delete');
        await withStores((stores) =>
          teamsCommand(stores, sub, rest, { json: values.json, name: values.name, budget: values.budget }),
        );
        return 0;
      case 'models':
        if (sub === undefined) throw new UsageError('models needs a subcommand: price');
        await withStores((stores) =>
          modelsCommand(stores, sub, rest, { json: values.json, input: values.input, output: values.output }),
        );
        return 0;
      case 'audit':
        if (sub === undefined) throw new UsageError('audit needs a subcommand: list, verify');
        return await withStores(() =>
          auditCommand(sub, {
            json: values.json,
            since: values.since,
            actor: values.actor,
            target: values.target,
            action: values.action,
          }),
        );
      case 'setup': {
        if (sub === undefined || !(TOOLS as readonly string[]).includes(sub))
          throw new UsageError(`setup needs a tool: ${TOOLS.join(', ')}`);
        if (values.key === undefined)
          throw new UsageError('setup needs --key KEY (the Tollgate key the tool will use)');
        const os =
          values.os ??
          (process.platform === 'darwin' ? 'macos' : process.platform === 'win32' ? 'windows' : 'linux');
        if (os !== 'macos' && os !== 'linux' && os !== 'windows')
          throw new UsageError('--os must be macos, linux or windows');
        const gatewayUrl = (
          values.url ??
          readRuntime(openLocalState())?.gatewayUrl ??
          'http://127.0.0.1:8787'
        ).replace(/\/+$/, '');
        const available = await modelsForKey(gatewayUrl, values.key);
        process.stdout.write(
          `${setupCommand({ tool: sub as Tool, os, gatewayUrl, key: values.key, available, model: values.model, haiku: values.haiku, sonnet: values.sonnet, opus: values.opus })}\n`,
        );
        return 0;
      }
      case 'usage':
        await withStores((stores) =>
          usageCommand(stores, {
            json: values.json,
            key: values.key,
            team: values.team,
            request: values.request,
          }),
        );
        return 0;
      case 'providers':
        if (sub === undefined)
          throw new UsageError('providers needs a subcommand: add, list, remove, credentials');
        await withStores((stores) =>
          providersCommand(stores, sub, rest, {
            json: values.json,
            type: values.type,
            baseUrl: values['base-url'],
            keyStdin: values['key-stdin'],
            keyEnv: values['key-env'],
            secretArn: values['secret-arn'],
            priority: values.priority,
            expires: values.expires,
            models: values.models,
          }),
        );
        return 0;
      case 'aliases':
        if (sub === undefined) throw new UsageError('aliases needs a subcommand: set, list, remove');
        await withStores((stores) =>
          aliasesCommand(stores, sub, rest, { json: values.json, targets: values.targets }),
        );
        return 0;
      case 'status':
        return await withStores((stores) =>
          statusCommand(stores, { json: values.json, check: values.check }),
        );
      default:
        throw new UsageError(`unknown command '${command}'`);
    }
  } catch (err) {
    // Only the message: expected failures carry a sentence for the operator, and a stack trace helps no one here.
    process.stderr.write(`${red('tollgate:')} ${err instanceof Error ? err.message : String(err)}\n`);
    if (err instanceof UsageError || err instanceof InputError) {
      process.stderr.write("Run 'tollgate --help' for usage.\n");
      return 2;
    }
    return 1;
  }
}
