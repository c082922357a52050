/** `tollgate keys …`: create, list, show, disable, enable, rotate, delete. */
import type { KeyView } from '#shared/store/keys.ts';
import type { Stores } from './context.ts';
import { parseFutureDate, printJson, printTable, UsageError } from './output.ts';

/** Parsed options shared by the key commands. */
export interface KeyCommandOptions {
  json: boolean;
  name?: string | undefined;
  models?: string | undefined;
  expires?: string | undefined;
}

function printKeys(keys: KeyView[]): void {
  printTable(
    ['ID', 'NAME', 'STATUS', 'MODELS', 'EXPIRES', 'REQUESTS', 'LAST USED'],
    keys.map((k) => [
      k.keyId,
      k.name,
      k.status,
      k.models.length === 0 ? '*' : k.models.join(','),
      k.expiresAt ?? '-',
      String(k.requestCount),
      k.lastUsedAt ?? '-',
    ]),
  );
}

function printSecret(action: string, key: KeyView, plaintext: string): void {
  process.stdout.write(
    `${action} key ${key.keyId} (${key.name}).\n\n  ${plaintext}\n\nThis is the only time the key is shown: store it now. Tollgate keeps only its SHA-256 hash.\n`,
  );
}

/** Runs one `keys` subcommand. */
export async function keysCommand(
  stores: Stores,
  sub: string,
  args: string[],
  options: KeyCommandOptions,
): Promise<void> {
  if (sub === 'create') {
    if (options.name === undefined || options.name.trim() === '')
      throw new UsageError('keys create needs --name NAME');
    const created = await stores.keys.create({
      name: options.name.trim(),
      models:
        options.models === undefined
          ? []
          : options.models
              .split(',')
              .map((m) => m.trim())
              .filter((m) => m !== ''),
      ...(options.expires === undefined ? {} : { expiresAt: parseFutureDate(options.expires, '--expires') }),
    });
    if (options.json) printJson({ id: created.key.keyId, key: created.plaintext, ...created.key });
    else printSecret('Created', created.key, created.plaintext);
    return;
  }
  if (sub === 'list') {
    const keys = await stores.keys.list();
    if (options.json) printJson(keys);
    else printKeys(keys);
    return;
  }
  const id = args[0];
  if (id === undefined) throw new UsageError(`keys ${sub} needs a key ID`);
  switch (sub) {
    case 'show': {
      const key = await stores.keys.require(id);
      if (options.json) printJson(key);
      else printKeys([key]);
      return;
    }
    case 'disable':
    case 'enable': {
      const key = await stores.keys.setStatus(id, sub === 'disable' ? 'disabled' : 'active');
      if (options.json) printJson(key);
      else process.stdout.write(`Key ${key.keyId} is now ${key.status}.\n`);
      return;
    }
    case 'rotate': {
      const rotated = await stores.keys.rotate(id);
      if (options.json) printJson({ id: rotated.key.keyId, key: rotated.plaintext, ...rotated.key });
      else printSecret('Rotated', rotated.key, rotated.plaintext);
      return;
    }
    case 'delete': {
      await stores.keys.delete(id);
      if (options.json) printJson({ id, deleted: true });
      else process.stdout.write(`Key ${id} deleted.\n`);
      return;
    }
    default:
      throw new UsageError(`unknown command 'keys ${sub}'`);
  }
}
