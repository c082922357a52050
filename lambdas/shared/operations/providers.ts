/** Provider, credential, price and alias operations, once, under both the CLI and `/admin`. */
import { adapterFor, isProviderType } from '../providers/index.ts';
import type { CredentialInput } from '../store/providers.ts';
import { InvalidError } from './errors.ts';
import { type Check, futureDate, list, nonNegativeInteger, operation, optional, text } from './schema.ts';

/** A credential's value or reference, and its place in the failover order. */
const credentialFields = {
  secret: optional(text),
  secretArn: optional(text),
  priority: optional(nonNegativeInteger),
  expires: optional(futureDate),
};

/** A credential as the store takes it: exactly one of a value and a Secrets Manager ARN. */
function credentialOf(raw: Record<string, unknown>, prefix: string): CredentialInput {
  const unknown = Object.keys(raw).find((k) => !Object.hasOwn(credentialFields, k) && raw[k] !== undefined);
  if (unknown !== undefined)
    throw new InvalidError(`unknown field '${prefix}${unknown}'`, { field: `${prefix}${unknown}` });
  const [secret, secretArn, priority, expires] = (
    ['secret', 'secretArn', 'priority', 'expires'] as const
  ).map((f) => credentialFields[f](raw[f], `${prefix}${f}`));
  if ((secret === undefined) === (secretArn === undefined))
    throw new InvalidError('give exactly one of secret and secretArn', { field: `${prefix}secret` });
  return {
    ...(typeof secret === 'string' ? { secret } : {}),
    ...(typeof secretArn === 'string' ? { secretArn } : {}),
    ...(typeof priority === 'number' ? { priority } : {}),
    ...(typeof expires === 'string' ? { expiresAt: expires } : {}),
  };
}

/** A nested credential object (`addProvider`'s first credential). */
const credential: Check<CredentialInput> = (value, field) => {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new InvalidError(`${field} must be an object`, { field });
  return credentialOf(value as Record<string, unknown>, `${field}.`);
};

/**
 * A new upstream with its first credential; a provider the gateway answers itself (`echo`) takes neither
 * a base URL nor a credential.
 */
export const addProvider = operation(
  'addProvider',
  {
    name: text,
    type: text,
    baseUrl: optional(text),
    models: optional(list),
    credential: optional(credential),
  },
  (stores, input) => {
    const baseUrl =
      input.baseUrl ?? (isProviderType(input.type) ? adapterFor(input.type).inProcess?.baseUrl : undefined);
    if (baseUrl === undefined) throw new InvalidError('baseUrl is required', { field: 'baseUrl' });
    return stores.providers.add(
      { name: input.name, type: input.type, baseUrl, models: input.models ?? [] },
      input.credential,
    );
  },
);

/** Every provider with its credential count. */
export const listProviders = operation('listProviders', {}, (stores) => stores.providers.list());

/** Removes a provider with all its credentials. */
export const removeProvider = operation('removeProvider', { name: text }, async (stores, input) => {
  await stores.providers.remove(input.name);
  return { provider: input.name, removed: true };
});

/** One more credential for a provider. */
export const addCredential = operation('addCredential', { provider: text, credential }, (stores, input) =>
  stores.providers.addCredential(input.provider, input.credential),
);

/** A provider's credentials, never their values. */
export const listCredentials = operation('listCredentials', { provider: text }, (stores, input) =>
  stores.providers.listCredentials(input.provider),
);

/** Removes one credential. */
export const removeCredential = operation(
  'removeCredential',
  { provider: text, credentialId: text },
  async (stores, input) => {
    await stores.providers.removeCredential(input.provider, input.credentialId);
    return { provider: input.provider, credentialId: input.credentialId, removed: true };
  },
);

/** A model name resolving to targets tried in order. */
export const setAlias = operation('setAlias', { name: text, targets: list }, (stores, input) =>
  stores.providers.setAlias(input.name, input.targets),
);

/** Every alias. */
export const listAliases = operation('listAliases', {}, (stores) => stores.providers.listAliases());

/** Removes an alias. */
export const removeAlias = operation('removeAlias', { name: text }, async (stores, input) => {
  await stores.providers.removeAlias(input.name);
  return { alias: input.name, removed: true };
});
