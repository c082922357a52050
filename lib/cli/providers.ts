/** `tollgate providers …` and `tollgate aliases …`: thin calls of the provider operations. */

import { InvalidError } from '#shared/operations/errors.ts';
import {
  addCredential,
  addProvider,
  listAliases,
  listCredentials,
  listProviders,
  refreshModels,
  removeAlias,
  removeCredential,
  removeProvider,
  setAlias,
  setPrice,
  updateCredential,
} from '#shared/operations/providers.ts';
import { adapterFor, apiOf, isProviderType } from '#shared/providers/index.ts';
import type { CommandEntry } from './command-spec.ts';
import { CREDENTIAL_OPTIONS, withCredential } from './credential-source.ts';
import { operationCommand } from './operation-command.ts';
import { printTable } from './output.ts';

/** True for a provider type the gateway answers itself: no credential to read. */
const inProcess = (type: string | undefined): boolean =>
  type !== undefined && isProviderType(type) && adapterFor(type).inProcess !== undefined;

const NAME = [{ name: 'NAME', field: 'name' }] as const;
const PROVIDER = [{ name: 'NAME', field: 'provider' }] as const;

/** The `providers` and `aliases` commands. */
export const PROVIDER_COMMANDS: readonly CommandEntry[] = [
  operationCommand({
    name: 'providers add',
    summary:
      'register an upstream with its first credential; TYPE is openai, openai-compatible, anthropic, gemini, or echo (answered by the gateway itself: no URL, no credential)',
    positionals: NAME,
    options: {
      type: {
        type: 'string',
        value: 'TYPE',
        summary: 'openai | openai-compatible | anthropic | gemini | echo',
        required: true,
      },
      baseUrl: {
        type: 'string',
        value: 'URL',
        summary: "the upstream's base URL, as its official SDK takes it (not for echo)",
      },
      models: {
        type: 'string',
        value: 'm1,m2',
        summary: "the model catalogue (default: discovered from the upstream's models list)",
      },
      ...CREDENTIAL_OPTIONS,
    },
    examples: [
      'tollgate providers add openai --type openai --base-url https://api.openai.com/v1 --models gpt-4o --key-env OPENAI_API_KEY',
    ],
    operation: addProvider,
    complete: (raw, given) =>
      inProcess(given.options.type)
        ? Promise.resolve(raw)
        : withCredential(raw, given.options, given.global.stack === undefined),
    print: (provider) => {
      process.stdout.write(
        `Provider ${provider.provider} (${provider.type}, ${provider.baseUrl}) added with ${provider.credentials} credential(s) and ${provider.models.length} models.\n`,
      );
      if ('discovery' in provider)
        process.stderr.write(`tollgate: no models discovered: ${provider.discovery}\n`);
    },
  }),
  operationCommand({
    name: 'providers list',
    summary: 'providers with their credential counts',
    examples: ['tollgate providers list'],
    operation: listProviders,
    print: (providers) =>
      printTable(
        ['NAME', 'TYPE', 'API', 'BASE URL', 'MODELS', 'CREDENTIALS'],
        providers.map((p) => [
          p.provider,
          p.type,
          apiOf(p.type),
          p.baseUrl,
          p.models.join(',') || '-',
          String(p.credentials),
        ]),
      ),
  }),
  operationCommand({
    name: 'providers models refresh',
    summary:
      "read the provider's catalogue again from its models list endpoint (or set it with --models); the credential must be readable here",
    positionals: NAME,
    options: { models: { type: 'string', value: 'm1,m2', summary: 'set this catalogue instead' } },
    examples: ['tollgate providers models refresh openai'],
    operation: refreshModels,
    print: (provider) =>
      process.stdout.write(
        `Provider ${provider.provider} offers ${provider.models.length} models: ${provider.models.join(', ') || '(none)'}.\n`,
      ),
  }),
  operationCommand({
    name: 'providers remove',
    summary: 'remove a provider with all its credentials',
    positionals: NAME,
    examples: ['tollgate providers remove openai'],
    confirm: ({ args }) => `Remove provider ${args.NAME} with all its credentials?`,
    operation: removeProvider,
    print: (removed) => process.stdout.write(`Provider ${removed.provider} removed.\n`),
  }),
  operationCommand({
    name: 'providers credentials add',
    summary: 'one more credential; lower priority is tried first; a duplicate value, ARN or label is refused',
    positionals: PROVIDER,
    options: CREDENTIAL_OPTIONS,
    examples: ['pbpaste | tollgate providers credentials add openai --key-stdin --priority 1'],
    operation: addCredential,
    complete: (raw, given) => withCredential(raw, given.options, given.global.stack === undefined),
    print: (view, { args }) =>
      process.stdout.write(`Credential ${view.id} added to ${args.NAME} with priority ${view.priority}.\n`),
  }),
  operationCommand({
    name: 'providers credentials list',
    summary: "a provider's credentials (id, label, priority, source, expiry), never their values",
    positionals: PROVIDER,
    examples: ['tollgate providers credentials list openai'],
    operation: listCredentials,
    print: (credentials) =>
      printTable(
        ['ID', 'LABEL', 'PRIORITY', 'SOURCE', 'EXPIRES', 'ADDED'],
        credentials.map((c) => [
          c.id,
          c.label ?? '-',
          String(c.priority),
          c.secretArn ?? (c.reference === undefined ? c.source : `${c.source}:${c.reference}`),
          c.expiresAt ?? '-',
          c.createdAt,
        ]),
      ),
  }),
  operationCommand({
    name: 'providers credentials update',
    summary:
      'relabel or reorder one credential without re-adding it (audited as `credential.update`; the next request follows the new order)',
    positionals: [...PROVIDER, { name: 'CREDENTIAL_ID', field: 'credentialId' }],
    options: {
      label: { type: 'string', value: 'LABEL', summary: 'its new label' },
      priority: { type: 'string', value: 'N', summary: 'its new place in the failover order (lower first)' },
    },
    examples: ['tollgate providers credentials update openai 6f1c…-… --label team-a --priority 0'],
    operation: updateCredential,
    print: (view, { args }) =>
      process.stdout.write(
        `Credential ${view.id} of ${args.NAME}: label ${view.label ?? '-'}, priority ${view.priority}.\n`,
      ),
  }),
  operationCommand({
    name: 'providers credentials remove',
    summary: 'remove one credential',
    positionals: [...PROVIDER, { name: 'CREDENTIAL_ID', field: 'credentialId' }],
    examples: ['tollgate providers credentials remove openai cred_AbC123'],
    confirm: ({ args }) => `Remove credential ${args.CREDENTIAL_ID} of ${args.NAME}?`,
    operation: removeCredential,
    print: (removed) => process.stdout.write(`Credential ${removed.id} removed from ${removed.provider}.\n`),
  }),
  operationCommand({
    name: 'aliases set',
    summary: 'a model name (e.g. fast) resolving to targets tried in order',
    positionals: NAME,
    options: {
      targets: { type: 'string', value: 'p/m[,p/m…]', summary: 'targets in fallback order', required: true },
    },
    examples: ['tollgate aliases set fast --targets groq/llama-3.3-70b,openai/gpt-4o-mini'],
    operation: setAlias,
    print: (alias) => process.stdout.write(`Alias ${alias.name} -> ${alias.targets.join(' -> ')}.\n`),
  }),
  operationCommand({
    name: 'aliases list',
    summary: 'every alias with its targets',
    examples: ['tollgate aliases list'],
    operation: listAliases,
    print: (aliases) =>
      printTable(
        ['ALIAS', 'TARGETS (in fallback order)'],
        aliases.map((a) => [a.name, a.targets.join(' -> ')]),
      ),
  }),
  operationCommand({
    name: 'aliases remove',
    summary: 'remove an alias',
    positionals: NAME,
    examples: ['tollgate aliases remove fast'],
    confirm: ({ args }) => `Remove alias ${args.NAME}?`,
    operation: removeAlias,
    print: (removed) => process.stdout.write(`Alias ${removed.alias} removed.\n`),
  }),
  operationCommand({
    name: 'models price',
    summary: 'set the price spend is computed from, in USD per million tokens',
    positionals: [{ name: 'PROVIDER/MODEL', field: 'model' }],
    options: {
      input: {
        type: 'string',
        value: 'USD_PER_MTOK',
        summary: 'input price',
        required: true,
        field: 'inputPerMTok',
      },
      output: {
        type: 'string',
        value: 'USD_PER_MTOK',
        summary: 'output price',
        required: true,
        field: 'outputPerMTok',
      },
    },
    examples: ['tollgate models price openai/gpt-4o --input 2.5 --output 10'],
    operation: setPrice,
    explain: (err) =>
      err instanceof InvalidError && err.field === 'model'
        ? new InvalidError('models price needs PROVIDER/MODEL', { cause: err })
        : undefined,
    print: (price) =>
      process.stdout.write(
        `${price.model}: ${price.inputPerMTok} USD per million input tokens, ${price.outputPerMTok} per million output tokens.\n`,
      ),
  }),
];
