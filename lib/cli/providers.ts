/** `tollgate providers …`: add, list, remove. */
import { PROVIDERS } from '#shared/providers/index.ts';
import type { Stores } from './context.ts';
import { printJson, printTable, UsageError } from './output.ts';

/** Parsed options of the provider commands. */
export interface ProviderCommandOptions {
  json: boolean;
  type?: string | undefined;
  baseUrl?: string | undefined;
  keyStdin: boolean;
  keyEnv?: string | undefined;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8').trim();
}

/** The credential from stdin or a named variable; never from an argument, which would land in shell history. */
async function readCredential(options: ProviderCommandOptions): Promise<string> {
  if (options.keyStdin === (options.keyEnv !== undefined))
    throw new UsageError('give exactly one of --key-stdin or --key-env VAR');
  const value = options.keyStdin ? await readStdin() : (process.env[options.keyEnv ?? ''] ?? '');
  if (value === '')
    throw new UsageError(
      options.keyStdin
        ? 'no credential on stdin'
        : `environment variable ${options.keyEnv} is empty or unset`,
    );
  return value;
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
    else
      printTable(
        ['NAME', 'TYPE', 'BASE URL', 'CREDENTIALS'],
        providers.map((p) => [p.provider, p.type, p.baseUrl, String(p.credentials)]),
      );
    return;
  }
  const name = args[0];
  if (name === undefined) throw new UsageError(`providers ${sub} needs a provider NAME`);
  if (sub === 'add') {
    if (options.type === undefined)
      throw new UsageError(`providers add needs --type (${Object.keys(PROVIDERS).join(' | ')})`);
    if (options.baseUrl === undefined) throw new UsageError('providers add needs --base-url URL');
    const credential = await readCredential(options);
    const provider = await stores.providers.add(
      { name, type: options.type, baseUrl: options.baseUrl },
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
