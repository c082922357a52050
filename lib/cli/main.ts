/** The `tollgate` command line: parses arguments, dispatches, turns every failure into one line and an exit code. */
import { parseArgs } from 'node:util';
import { runDev } from '../local/dev.ts';
import { withLocalStores } from './context.ts';
import { keysCommand } from './keys.ts';
import { UsageError } from './output.ts';
import { aliasesCommand, providersCommand } from './providers.ts';
import { statusCommand } from './status.ts';

export const USAGE = `Usage: tollgate <command> [options]

Commands:
  dev [--port N] [--cache-ttl SECONDS]        run the local gateway (npm start)
  keys create --name NAME [--models a/b,c/*] [--expires DATE]
  keys list | show ID | disable ID | enable ID | rotate ID | delete ID
  providers add NAME --type TYPE --base-url URL [--models m1,m2] (--key-stdin | --key-env VAR | --secret-arn ARN)
            [--priority N] [--expires DATE]      TYPE: openai | openai-compatible | anthropic | gemini
  providers list | remove NAME
  providers credentials add NAME (--key-stdin | --key-env VAR | --secret-arn ARN) [--priority N] [--expires DATE]
  providers credentials list NAME | remove NAME CREDENTIAL_ID
  aliases set NAME --targets provider/model[,provider/model…] | list | remove NAME
  status [--check]                            credential health: exit 0 ok, 1 no working credential, 2 expiring

Every command takes --json for machine-readable output.
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
    const [command, sub, ...rest] = positionals;
    if (values.help || command === undefined || command === 'help') {
      process.stdout.write(`${USAGE}\n`);
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
        await withLocalStores((stores) =>
          keysCommand(stores, sub, rest, {
            json: values.json,
            name: values.name,
            models: values.models,
            expires: values.expires,
          }),
        );
        return 0;
      case 'providers':
        if (sub === undefined)
          throw new UsageError('providers needs a subcommand: add, list, remove, credentials');
        await withLocalStores((stores) =>
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
        await withLocalStores((stores) =>
          aliasesCommand(stores, sub, rest, { json: values.json, targets: values.targets }),
        );
        return 0;
      case 'status':
        return await withLocalStores((stores) =>
          statusCommand(stores, { json: values.json, check: values.check }),
        );
      default:
        throw new UsageError(`unknown command '${command}'`);
    }
  } catch (err) {
    // Only the message: expected failures carry a sentence for the operator, and a stack trace helps no one here.
    process.stderr.write(`tollgate: ${err instanceof Error ? err.message : String(err)}\n`);
    if (err instanceof UsageError) {
      process.stderr.write("Run 'tollgate --help' for usage.\n");
      return 2;
    }
    return 1;
  }
}
