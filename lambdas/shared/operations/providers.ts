/** Provider, credential, price and alias operations, once, under both the CLI and `/admin`. */
import { DiscoveryError, discoverModels } from '../providers/discovery.ts';
import { adapterFor, isProviderType } from '../providers/index.ts';
import { type CredentialInput, validateProviderInput } from '../store/providers.ts';
import { InvalidError, NotFoundError } from './errors.ts';
import { type Check, futureDate, list, nonNegativeInteger, operation, optional, text } from './schema.ts';

/** A credential's value or reference, and its place in the failover order. */
const credentialFields = {
  secret: optional(text),
  secretArn: optional(text),
  parameterArn: optional(text),
  keyFile: optional(text),
  keyEnv: optional(text),
  priority: optional(nonNegativeInteger),
  expires: optional(futureDate),
  label: optional(text),
};

/** Where a credential's value comes from: exactly one of these. */
const SOURCE_FIELDS = ['secret', 'secretArn', 'parameterArn', 'keyFile', 'keyEnv'] as const;

/** A credential as the store takes it: exactly one source (a value, or a reference read at run time). */
function credentialOf(raw: Record<string, unknown>, prefix: string): CredentialInput {
  const unknown = Object.keys(raw).find((k) => !Object.hasOwn(credentialFields, k) && raw[k] !== undefined);
  if (unknown !== undefined)
    throw new InvalidError(`unknown field '${prefix}${unknown}'`, { field: `${prefix}${unknown}` });
  const [priority, expires, label] = (['priority', 'expires', 'label'] as const).map((f) =>
    credentialFields[f](raw[f], `${prefix}${f}`),
  );
  const sources = SOURCE_FIELDS.flatMap((f) => {
    const value = credentialFields[f](raw[f], `${prefix}${f}`);
    return value === undefined ? [] : [[f, value] as const];
  });
  if (sources.length !== 1)
    throw new InvalidError(`give exactly one of ${SOURCE_FIELDS.join(', ')}`, { field: `${prefix}secret` });
  return {
    ...Object.fromEntries(sources),
    ...(typeof priority === 'number' ? { priority } : {}),
    ...(typeof expires === 'string' ? { expiresAt: expires } : {}),
    ...(typeof label === 'string' ? { label } : {}),
  };
}

/** A nested credential object (`addProvider`'s first credential). */
const credential: Check<CredentialInput> = (value, field) => {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new InvalidError(`${field} must be an object`, { field });
  return credentialOf(value as Record<string, unknown>, `${field}.`);
};

/** The upstream's own catalogue, as an operation's refusal when it cannot be read. */
async function discovered(provider: { type: string; baseUrl: string }, secret: string): Promise<string[]> {
  if (!isProviderType(provider.type))
    throw new InvalidError(`unknown provider type '${provider.type}'`, { field: 'type' });
  try {
    return await discoverModels(
      { type: provider.type, baseUrl: provider.baseUrl.replace(/\/+$/, '') },
      secret,
    );
  } catch (err) {
    if (err instanceof DiscoveryError) throw new InvalidError(err.message, { field: 'models', cause: err });
    throw err;
  }
}

/**
 * A new upstream with its first credential; a provider the gateway answers itself (`echo`) takes neither
 * a base URL nor a credential. Without `models` the catalogue is discovered from the upstream's list
 * endpoint with that credential (a Secrets Manager reference is read only at run time, so such a provider
 * starts empty: `refreshModels` fills it where the secret can be read).
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
  async (stores, input) => {
    const baseUrl =
      input.baseUrl ?? (isProviderType(input.type) ? adapterFor(input.type).inProcess?.baseUrl : undefined);
    if (baseUrl === undefined) throw new InvalidError('baseUrl is required', { field: 'baseUrl' });
    const given = { name: input.name, type: input.type, baseUrl, models: input.models ?? [] };
    const secret = input.credential?.secret;
    if (given.models.length > 0 || secret === undefined) return stores.providers.add(given, input.credential);
    // Checked before anything is fetched from the URL.
    const config = validateProviderInput(given);
    let models: string[] = [];
    let discovery: string | undefined;
    try {
      models = await discovered(config, secret);
    } catch (err) {
      // An upstream that cannot answer now does not stop the registration; the catalogue can follow.
      if (!(err instanceof InvalidError)) throw err;
      discovery = `${err.message}, or later: tollgate providers models refresh ${input.name}`;
    }
    const added = await stores.providers.add({ ...given, models }, input.credential);
    return discovery === undefined ? added : { ...added, discovery };
  },
);

/**
 * Re-reads a provider's catalogue from its list endpoint with its first usable credential, or sets the
 * `models` given. Reading the credential needs decryption, which on a deployed stack only the proxy may do.
 */
export const refreshModels = operation(
  'refreshModels',
  { name: text, models: optional(list) },
  async (stores, input) => {
    if (input.models !== undefined && input.models.length > 0)
      return stores.providers.setModels(input.name, input.models);
    let resolved: Awaited<ReturnType<typeof stores.providers.resolve>>;
    try {
      resolved = await stores.providers.resolve(input.name);
    } catch (err) {
      throw new InvalidError(
        `cannot read ${input.name}'s credential here (on a deployed stack only the proxy may decrypt credentials): give the models with --models`,
        { field: 'models', cause: err },
      );
    }
    if (resolved === undefined) throw new NotFoundError(`no provider '${input.name}'`);
    const credential = resolved.credentials[0];
    if (credential === undefined)
      throw new InvalidError(`${input.name} has no usable credential to list its models with`, {
        field: 'name',
      });
    return stores.providers.setModels(input.name, await discovered(resolved.config, credential.secret));
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

/** Relabels or reorders one credential in place: its value, and so its failover history, stay. */
export const updateCredential = operation(
  'updateCredential',
  {
    provider: text,
    credentialId: text,
    label: optional(text),
    priority: optional(nonNegativeInteger),
  },
  (stores, input) =>
    stores.providers.updateCredential(input.provider, input.credentialId, {
      ...(input.label === undefined ? {} : { label: input.label }),
      ...(input.priority === undefined ? {} : { priority: input.priority }),
    }),
);

/** Removes one credential. */
export const removeCredential = operation(
  'removeCredential',
  { provider: text, credentialId: text },
  async (stores, input) => {
    await stores.providers.removeCredential(input.provider, input.credentialId);
    return { provider: input.provider, id: input.credentialId, removed: true };
  },
);

/** A price in USD per million tokens (a JSON number or a numeric string), 0 to 10000. */
const usdPerMTok: Check<number> = (value, field) => {
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isFinite(n) || n < 0 || n > 10_000)
    throw new InvalidError(`${field} must be USD per million tokens, from 0 to 10000`, { field });
  return n;
};

/** A model's slug split at its first slash (model ids may hold more). */
const slug: Check<{ provider: string; model: string }> = (value, field) => {
  const given = text(value, field);
  const slash = given.indexOf('/');
  if (slash <= 0 || slash === given.length - 1)
    throw new InvalidError(`${field} must be PROVIDER/MODEL`, { field });
  return { provider: given.slice(0, slash), model: given.slice(slash + 1) };
};

/** Sets the price spend is computed from, for one provider's model. */
export const setPrice = operation(
  'setPrice',
  { model: slug, inputPerMTok: usdPerMTok, outputPerMTok: usdPerMTok },
  async (stores, input) => {
    const { provider, model } = input.model;
    const price = { inputPerMTok: input.inputPerMTok, outputPerMTok: input.outputPerMTok };
    await stores.providers.setPrice(provider, model, price);
    return { model: `${provider}/${model}`, ...price };
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
