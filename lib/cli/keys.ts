/** `tollgate keys …`: the key commands, each a thin call of a key operation, and their human output. */
import { readFile } from 'node:fs/promises';
import { InvalidError } from '#shared/operations/errors.ts';
import {
  createKey,
  deleteKey,
  disableKey,
  enableKey,
  importKeys,
  type ListedKey,
  listKeys,
  rotateKey,
  setKeyShards,
  showKey,
  updateKey,
} from '#shared/operations/keys.ts';
import type { ShownKey } from '#shared/operations/present.ts';
import { RingFormatError } from '#shared/operations/ring.ts';
import type { CommandEntry } from './command-spec.ts';
import { operationCommand } from './operation-command.ts';
import { printTable, UsageError } from './output.ts';

/** The scope and limits options of `keys create` and `keys import`. */
export const KEY_SCOPE_OPTIONS = {
  models: {
    type: 'string',
    value: 'a/b,c/*',
    summary: 'allowed provider/model slugs; empty means every model',
  },
  team: { type: 'string', value: 'ID|NAME', summary: 'the team the key belongs to' },
  monthlyLimit: {
    type: 'string',
    value: 'USD',
    summary: 'monthly spend limit in USD',
    field: 'monthlyLimitUsd',
  },
  rpm: { type: 'string', value: 'N', summary: 'requests per minute' },
  tpm: { type: 'string', value: 'N', summary: 'tokens per minute' },
} as const;

/** The ID positional of every command on one key. */
export const KEY_REF = [{ name: 'ID', field: 'id' }] as const;

/** Prints keys as a table. */
export function printKeys(
  keys: ReadonlyArray<ShownKey & Partial<Pick<ListedKey, 'requests' | 'lastUsedAt'>>>,
): void {
  printTable(
    [
      'ID',
      'NAME',
      'STATUS',
      'TEAM',
      'MODELS',
      'LIMIT USD/MO',
      'RPM',
      'TPM',
      'EXPIRES',
      'REQUESTS',
      'LAST USED',
    ],
    keys.map((k) => [
      k.id,
      k.name,
      k.status,
      k.teamId ?? '-',
      k.models.length === 0 ? '*' : k.models.join(','),
      k.monthlyLimitUsd === undefined ? '-' : String(k.monthlyLimitUsd),
      k.rpm === undefined ? '-' : String(k.rpm),
      k.tpm === undefined ? '-' : String(k.tpm),
      k.expiresAt ?? '-',
      k.requests === undefined ? '-' : String(k.requests),
      k.lastUsedAt ?? '-',
    ]),
  );
}

function printSecret(action: string, key: ShownKey, plaintext: string): void {
  process.stdout.write(
    `${action} key ${key.id} (${key.name}).\n\n  ${plaintext}\n\nThis is the only time the key is shown: store it now. Tollgate keeps only its SHA-256 hash.\n`,
  );
}

const statusLine = (key: ShownKey) => process.stdout.write(`Key ${key.id} is now ${key.status}.\n`);

/** The `keys` commands. */
export const KEY_COMMANDS: readonly CommandEntry[] = [
  operationCommand({
    name: 'keys create',
    summary: 'issue a key; the plaintext is printed once (--json: id, key, …)',
    options: {
      name: { type: 'string', value: 'NAME', summary: 'a name for people', required: true },
      ...KEY_SCOPE_OPTIONS,
      credentials: {
        type: 'string',
        value: 'LABEL,…',
        summary: 'use only the provider credentials with these labels (failover among them)',
      },
      expires: { type: 'string', value: 'DATE', summary: 'when the key stops working (ISO 8601)' },
    },
    examples: [
      "tollgate keys create --name ci --models 'openai/*' --monthly-limit 50 --rpm 60",
      'tollgate keys create --name team-a-ci --credentials team-a',
    ],
    operation: createKey,
    print: (created) => printSecret('Created', created, created.key),
  }),
  operationCommand({
    name: 'keys list',
    summary: 'list keys (never their hashes) with their request counts and last use',
    options: { team: KEY_SCOPE_OPTIONS.team },
    examples: ['tollgate keys list --team platform'],
    operation: listKeys,
    print: printKeys,
  }),
  operationCommand({
    name: 'keys show',
    summary: 'one key, by id or name, with its request count and last use',
    positionals: KEY_REF,
    examples: ['tollgate keys show ci'],
    operation: showKey,
    print: (key) => printKeys([key]),
  }),
  operationCommand({
    name: 'keys disable',
    summary: 'refuse the key until enabled again',
    positionals: KEY_REF,
    examples: ['tollgate keys disable AbC123xyZ789'],
    confirm: ({ args }) => `Disable key ${args.ID}? Requests with it are refused until it is enabled.`,
    operation: disableKey,
    print: statusLine,
  }),
  operationCommand({
    name: 'keys enable',
    summary: 'accept a disabled key again',
    positionals: KEY_REF,
    examples: ['tollgate keys enable AbC123xyZ789'],
    operation: enableKey,
    print: statusLine,
  }),
  operationCommand({
    name: 'keys rotate',
    summary: 'new secret, same id and history; the old secret is refused at once, or after --grace',
    positionals: KEY_REF,
    options: {
      grace: { type: 'string', value: 'DURATION', summary: 'keep the old secret valid (30m, 2h, 7d)' },
    },
    examples: ['tollgate keys rotate AbC123xyZ789 --grace 1h'],
    confirm: ({ args, options }) =>
      `Rotate key ${args.ID}? Its current secret stops working ${options.grace === undefined ? 'at once' : `after ${options.grace}`}.`,
    operation: rotateKey,
    print: (rotated) => {
      printSecret('Rotated', rotated, rotated.key);
      process.stdout.write(
        rotated.previousValidUntil === undefined
          ? 'The previous secret no longer works.\n'
          : `The previous secret keeps working until ${rotated.previousValidUntil}.\n`,
      );
    },
  }),
  operationCommand({
    name: 'keys shards',
    summary:
      "split a busy key's monthly counters over N shards, from next month; each admits within 1/N of its limit (see Admission at scale)",
    positionals: KEY_REF,
    options: { count: { type: 'string', value: 'N', summary: 'shards, 1 to 100', required: true } },
    examples: ['tollgate keys shards ci-fleet --count 8'],
    operation: setKeyShards,
    print: (key) =>
      process.stdout.write(
        `Key ${key.id} will be admitted against ${key.monthShards?.count ?? 1} shard(s) from ${key.monthShards?.from ?? 'next month'}.\n`,
      ),
  }),
  operationCommand({
    name: 'keys import',
    summary:
      'import keys issued elsewhere: entries separated by newlines or commas, each sha256hex or label:sha256hex (# comment lines); again is a no-op; --sync also removes imported keys not in FILE',
    positionals: [{ name: 'FILE' }],
    options: {
      ...KEY_SCOPE_OPTIONS,
      sync: { type: 'boolean', summary: 'make the imported keys exactly those in FILE' },
    },
    examples: ['tollgate keys import ring.txt --team platform', 'tollgate keys import ring.txt --sync --yes'],
    confirm: ({ args, options }) =>
      options.sync ? `Delete every imported key that ${args.FILE} does not list?` : undefined,
    operation: importKeys,
    complete: async (raw, { args }) => {
      try {
        return { ...raw, ring: await readFile(args.FILE, 'utf8') };
      } catch (err) {
        throw new UsageError(`cannot read ${args.FILE}`, { cause: err });
      }
    },
    explain: (err, { args }) =>
      err instanceof RingFormatError
        ? new InvalidError(
            err.problems.map((p) => `${args.FILE}:${p.line}:${p.column}: ${p.message}`).join('\n'),
            { cause: err },
          )
        : undefined,
    print: (result) => {
      for (const k of result.added) process.stdout.write(`+ ${k.id} (${k.name})\n`);
      for (const k of result.removed) process.stdout.write(`- ${k.id} (${k.name})\n`);
      process.stdout.write(
        `Imported ${result.added.length} key hash(es), ${result.kept.length} already there, ${result.removed.length} removed.\n`,
      );
    },
  }),
  operationCommand({
    name: 'keys update',
    summary:
      "change a key's name, scope or limits; --clear-* removes one; effective on the key's next request",
    positionals: KEY_REF,
    options: {
      name: { type: 'string', value: 'NAME', summary: 'a new name' },
      ...KEY_SCOPE_OPTIONS,
      expires: { type: 'string', value: 'DATE', summary: 'when the key stops working (ISO 8601)' },
      clearTeam: { type: 'boolean', summary: 'take the key out of its team', field: 'team', clears: true },
      clearMonthlyLimit: {
        type: 'boolean',
        summary: 'no monthly spend limit',
        field: 'monthlyLimitUsd',
        clears: true,
      },
      clearRpm: { type: 'boolean', summary: 'no requests-per-minute limit', field: 'rpm', clears: true },
      clearTpm: { type: 'boolean', summary: 'no tokens-per-minute limit', field: 'tpm', clears: true },
      credentials: {
        type: 'string',
        value: 'LABEL,…',
        summary: 'use only the provider credentials with these labels (failover among them)',
      },
      clearCredentials: {
        type: 'boolean',
        summary: "any credential (or the team's binding)",
        field: 'credentials',
        clears: true,
      },
      clearExpires: { type: 'boolean', summary: 'never expires', field: 'expires', clears: true },
    },
    examples: [
      "tollgate keys update ci --models 'openai/*,anthropic/*' --rpm 120",
      'tollgate keys update ci --clear-monthly-limit --team platform',
    ],
    operation: updateKey,
    print: (key) => printKeys([key]),
  }),
  operationCommand({
    name: 'keys delete',
    summary: 'remove the key; its request log stays searchable by request id',
    positionals: KEY_REF,
    examples: ['tollgate keys delete AbC123xyZ789'],
    confirm: ({ args }) => `Delete key ${args.ID}? This cannot be undone.`,
    operation: deleteKey,
    print: (deleted) =>
      process.stdout.write(`Key ${deleted.id} deleted; its request log stays searchable by request id.\n`),
  }),
];
