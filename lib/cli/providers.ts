/** `tollgate providers …`: add, list, remove, and `providers credentials add|list|remove`. */
import { PROVIDERS } from '#shared/providers/index.ts';
import type { CredentialInput } from '#shared/store/providers.ts';
import type { Stores } from './context.ts';
import { parseFutureDate, printJson, printTable, splitList, UsageError } from './output.ts';

/** Parsed options of the provider commands. */
export interface ProviderCommandOptions {
  json: boolean;
  type?: string | undefined;
  baseUrl?: string | undefined;
  models?: string | undefined;
  keyStdin: boolean;
  keyEnv?: string | undefined;
  secretArn?: string | undefined;
  priority?: string | undefined;
  expires?: string | undefined;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8').trim();
}

/**
 * The credential from stdin, a named variable or a Secrets Manager ARN; never from an argument value,
 * which would land in shell history.
 */
async function readCredential(stores: Stores, options: ProviderCommandOptions): Promise<CredentialInput> {
  const sources = [options.keyStdin, options.keyEnv !== undefined, options.secretArn !== undefined].filter(
    Boolean,
  ).length;
  if (sources !== 1)
    throw new UsageError('give exactly one of --key-stdin, --key-env VAR or --secret-arn ARN');
  const extra: Pick<CredentialInput, 'priority' | 'expiresAt'> = {};
  if (options.priority !== undefined) {
    const priority = Number(options.priority);
    if (!Number.isSafeInteger(priority) || priority < 0)
      throw new UsageError('--priority must be a non-negative integer');
    extra.priority = priority;
  }
  if (options.expires !== undefined) extra.expiresAt = parseFutureDate(options.expires, '--expires');
  if (options.secretArn !== undefined) {
    if (stores.local) {
      throw new UsageError(
        'Secrets Manager references work only on a deployed stack; locally use --key-stdin or --key-env',
      );
    }
    return { secretArn: options.secretArn, ...extra };
  }
  const value = options.keyStdin ? await readStdin() : (process.env[options.keyEnv ?? ''] ?? '');
  if (value === '')
    throw new UsageError(
      options.keyStdin
        ? 'no credential on stdin'
        : `environment variable ${options.keyEnv} is empty or unset`,
    );
  return { secret: value, ...extra };
}

async function credentialsCommand(
  stores: Stores,
  args: string[],
  options: ProviderCommandOptions,
): Promise<void> {
  const [sub, name, credentialId] = args;
  if (sub === undefined || name === undefined)
    throw new UsageError('usage: providers credentials add|list|remove NAME');
  if (sub === 'add') {
    const view = await stores.providers.addCredential(name, await readCredential(stores, options));
    if (options.json) printJson(view);
    else
      process.stdout.write(
        `Credential ${view.credentialId} added to ${name} with priority ${view.priority}.\n`,
      );
    return;
  }
  if (sub === 'list') {
    const credentials = await stores.providers.listCredentials(name);
    if (options.json) printJson(credentials);
    else {
      printTable(
        ['ID', 'PRIORITY', 'SOURCE', 'EXPIRES', 'ADDED'],
        credentials.map((c) => [
          c.credentialId,
          String(c.priority),
          c.secretArn ?? c.source,
          c.expiresAt ?? '-',
          c.createdAt,
        ]),
      );
    }
    return;
  }
  if (sub === 'remove') {
    if (credentialId === undefined)
      throw new UsageError('providers credentials remove needs NAME and CREDENTIAL_ID');
    await stores.providers.removeCredential(name, credentialId);
    if (options.json) printJson({ provider: name, credentialId, removed: true });
    else process.stdout.write(`Credential ${credentialId} removed from ${name}.\n`);
    return;
  }
  throw new UsageError(`unknown command 'providers credentials ${sub}'`);
}

/** Runs one `providers` subcommand. */
export async function providersCommand(
  stores: Stores,
  sub: string,
  args: string[],
  options: ProviderCommandOptions,
): Promise<void> {
  if (sub === 'list') {
    const providers = await stores.providers.list();
    if (options.json) printJson(providers);
    else {
      printTable(
        ['NAME', 'TYPE', 'BASE URL', 'MODELS', 'CREDENTIALS'],
        providers.map((p) => [
          p.provider,
          p.type,
          p.baseUrl,
          p.models.join(',') || '-',
          String(p.credentials),
        ]),
      );
    }
    return;
  }
  if (sub === 'credentials') return credentialsCommand(stores, args, options);
  const name = args[0];
  if (name === undefined) throw new UsageError(`providers ${sub} needs a provider NAME`);
  if (sub === 'add') {
    if (options.type === undefined)
      throw new UsageError(`providers add needs --type (${Object.keys(PROVIDERS).join(' | ')})`);
    if (options.baseUrl === undefined) throw new UsageError('providers add needs --base-url URL');
    const credential = await readCredential(stores, options);
    const provider = await stores.providers.add(
      { name, type: options.type, baseUrl: options.baseUrl, models: splitList(options.models) },
      credential,
    );
    if (options.json) printJson(provider);
    else
      process.stdout.write(
        `Provider ${provider.provider} (${provider.type}, ${provider.baseUrl}) added with 1 credential.\n`,
      );
    return;
  }
  if (sub === 'remove') {
    await stores.providers.remove(name);
    if (options.json) printJson({ provider: name, removed: true });
    else process.stdout.write(`Provider ${name} removed.\n`);
    return;
  }
  throw new UsageError(`unknown command 'providers ${sub}'`);
}

/** Runs one `aliases` subcommand. */
export async function aliasesCommand(
  stores: Stores,
  sub: string,
  args: string[],
  options: { json: boolean; targets?: string | undefined },
): Promise<void> {
  if (sub === 'list') {
    const aliases = await stores.providers.listAliases();
    if (options.json) printJson(aliases);
    else
      printTable(
        ['ALIAS', 'TARGETS (in fallback order)'],
        aliases.map((a) => [a.name, a.targets.join(' -> ')]),
      );
    return;
  }
  const name = args[0];
  if (name === undefined) throw new UsageError(`aliases ${sub} needs an alias NAME`);
  if (sub === 'set') {
    const targets = splitList(options.targets);
    if (targets.length === 0)
      throw new UsageError('aliases set needs --targets provider/model[,provider/model…]');
    const alias = await stores.providers.setAlias(name, targets);
    if (options.json) printJson(alias);
    else process.stdout.write(`Alias ${alias.name} -> ${alias.targets.join(' -> ')}.\n`);
    return;
  }
  if (sub === 'remove') {
    await stores.providers.removeAlias(name);
    if (options.json) printJson({ alias: name, removed: true });
    else process.stdout.write(`Alias ${name} removed.\n`);
    return;
  }
  throw new UsageError(`unknown command 'aliases ${sub}'`);
}
