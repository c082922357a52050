/** `tollgate keys …`: create, list, show, disable, enable, rotate, delete, import. */
import { readFile } from 'node:fs/promises';
import { parseDuration, parseLimits } from '#shared/inputs.ts';
import { microsToUsd } from '#shared/proxy/estimate.ts';
import type { KeyView } from '#shared/store/keys.ts';
import type { Stores } from './context.ts';
import { parseFutureDate, printJson, printTable, splitList, UsageError } from './output.ts';

/** Parsed options shared by the key commands. */
export interface KeyCommandOptions {
  json: boolean;
  name?: string | undefined;
  models?: string | undefined;
  expires?: string | undefined;
  team?: string | undefined;
  monthlyLimit?: string | undefined;
  rpm?: string | undefined;
  tpm?: string | undefined;
  grace?: string | undefined;
}

function printKeys(keys: KeyView[]): void {
  printTable(
    ['ID', 'NAME', 'STATUS', 'TEAM', 'MODELS', 'LIMIT USD/MO', 'RPM', 'TPM', 'EXPIRES'],
    keys.map((k) => [
      k.keyId,
      k.name,
      k.status,
      k.teamId ?? '-',
      k.models.length === 0 ? '*' : k.models.join(','),
      k.monthlyLimitMicros === undefined ? '-' : String(microsToUsd(k.monthlyLimitMicros)),
      k.rpm === undefined ? '-' : String(k.rpm),
      k.tpm === undefined ? '-' : String(k.tpm),
      k.expiresAt ?? '-',
    ]),
  );
}

function printSecret(action: string, key: KeyView, plaintext: string): void {
  process.stdout.write(
    `${action} key ${key.keyId} (${key.name}).\n\n  ${plaintext}\n\nThis is the only time the key is shown: store it now. Tollgate keeps only its SHA-256 hash.\n`,
  );
}

async function requireTeam(stores: Stores, teamId: string | undefined): Promise<void> {
  if (teamId === undefined) return;
  const team = await stores.teams.get(teamId);
  if (team === undefined) throw new UsageError(`no team '${teamId}' (see 'tollgate teams list')`);
}

/** `keys import FILE`: one `label:sha256hex` per line; blank lines and `#` comments are skipped. */
async function importKeys(stores: Stores, file: string, options: KeyCommandOptions): Promise<void> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    throw new UsageError(`cannot read ${file}`);
  }
  const lines = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  const parsed = lines.map((line, i) => {
    const colon = line.lastIndexOf(':');
    const label = line.slice(0, colon).trim();
    const hash = line
      .slice(colon + 1)
      .trim()
      .toLowerCase();
    if (colon <= 0 || label === '' || !/^[0-9a-f]{64}$/.test(hash))
      throw new UsageError(`${file}:${i + 1}: expected label:sha256hex`);
    return { label, hash };
  });
  await requireTeam(stores, options.team);
  const imported: KeyView[] = [];
  for (const { label, hash } of parsed) {
    imported.push(
      await stores.keys.importHash(label, hash, {
        models: splitList(options.models),
        ...parseLimits(options),
        ...(options.team === undefined ? {} : { teamId: options.team }),
      }),
    );
  }
  if (options.json) printJson(imported);
  else
    process.stdout.write(
      `Imported ${imported.length} key hash(es): ${imported.map((k) => `${k.keyId} (${k.name})`).join(', ')}.\n`,
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
    await requireTeam(stores, options.team);
    const created = await stores.keys.create({
      name: options.name.trim(),
      models: splitList(options.models),
      ...parseLimits(options),
      ...(options.team === undefined ? {} : { teamId: options.team }),
      ...(options.expires === undefined ? {} : { expiresAt: parseFutureDate(options.expires, '--expires') }),
    });
    if (options.json) printJson({ id: created.key.keyId, key: created.plaintext, ...created.key });
    else printSecret('Created', created.key, created.plaintext);
    return;
  }
  if (sub === 'list') {
    const keys = await stores.keys.list(options.team === undefined ? {} : { teamId: options.team });
    if (options.json) printJson(keys);
    else printKeys(keys);
    return;
  }
  const id = args[0];
  if (id === undefined)
    throw new UsageError(sub === 'import' ? 'keys import needs a FILE' : `keys ${sub} needs a key ID`);
  switch (sub) {
    case 'import':
      return importKeys(stores, id, options);
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
      const graceMs = options.grace === undefined ? 0 : parseDuration(options.grace, '--grace');
      const rotated = await stores.keys.rotate(id, graceMs);
      if (options.json) printJson({ id: rotated.key.keyId, key: rotated.plaintext, ...rotated.key });
      else {
        printSecret('Rotated', rotated.key, rotated.plaintext);
        process.stdout.write(
          rotated.key.previousValidUntil === undefined
            ? 'The previous secret no longer works.\n'
            : `The previous secret keeps working until ${rotated.key.previousValidUntil}.\n`,
        );
      }
      return;
    }
    case 'delete': {
      await stores.keys.delete(id);
      if (options.json) printJson({ id, deleted: true });
      else process.stdout.write(`Key ${id} deleted; its request log stays searchable by request id.\n`);
      return;
    }
    default:
      throw new UsageError(`unknown command 'keys ${sub}'`);
  }
}
