/**
 * Changes to upstream providers, their credentials (envelope-encrypted or references) and model aliases;
 * the reads, and the types of what is stored, are {@link ProviderReader}'s (`provider-reader.ts`).
 *
 * Over 300 lines because it is one class over one table's changes, whose conditional writes and audit
 * stamps are private to it; the input validation at its top is the first candidate to move out.
 */
import { createHash, randomUUID } from 'node:crypto';
import { type Keyring, seal } from '../crypto/envelope.ts';
import { InputError } from '../inputs.ts';
import { InvalidError } from '../operations/errors.ts';
import { adapterFor, isProviderType } from '../providers/index.ts';
import { type AuditAction, type Change, newChange } from './attribution.ts';
import { bumpConfigVersion } from './config-version.ts';
import { REFERENCE_KINDS, referenceOf } from './credential-sources.ts';
import {
  ConcurrentChangeError,
  cancellationCodes,
  type DocumentDb,
  isConditionalCheckFailed,
  RecordExistsError,
  RecordNotFoundError,
} from './db.ts';
import type { StoreOptions } from './keys.ts';
import { checkCount, checkModels, MAX_MODEL_LENGTH } from './limits.ts';
import {
  ALIAS_PREFIX,
  ALIAS_SK,
  type Alias,
  CREDENTIAL_SK_PREFIX,
  type CredentialItem,
  type CredentialView,
  credentialView,
  type ModelPrice,
  NAME_PATTERN,
  PROVIDER_SK,
  type ProviderConfig,
  ProviderReader,
  type ProviderView,
  type SecretSource,
  toConfig,
} from './provider-reader.ts';

export {
  type Alias,
  type Credential,
  type CredentialView,
  credentialFromSecretString,
  type ModelPrice,
  type ProviderConfig,
  ProviderReader,
  type ProviderView,
  type ResolvedProvider,
  type SecretSource,
} from './provider-reader.ts';

const CREDENTIAL_ID_PATTERN = /^[0-9a-f-]{36}$/;
/** Longest credential value accepted (real API keys are well under 1 KB; JWT-style tokens a few KB). */
const MAX_SECRET_LENGTH = 16 * 1024;
const SECRET_ARN_PATTERN = /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+$/;
/** A credential's label: what keys and teams are bound by, so it reads like a name, not a value. */
const LABEL_PATTERN = /^[a-z0-9][a-z0-9._-]{0,62}$/;

/** Input for registering a provider. */
export interface AddProviderInput {
  name: string;
  type: string;
  baseUrl: string;
  models?: string[];
}

/** Options of one credential. */
export interface CredentialInput {
  /** The value itself, sealed under a fresh data key. */
  secret?: string;
  /** Or a Secrets Manager secret ARN, read at run time. */
  secretArn?: string;
  /** Or an SSM Parameter Store SecureString parameter's ARN, read at run time (AWS). */
  parameterArn?: string;
  /** Or a file of the gateway's host, read at run time (local). */
  keyFile?: string;
  /** Or a variable of the gateway's environment, read at run time (local). */
  keyEnv?: string;
  /** Lower runs first; default: after the existing ones. */
  priority?: number;
  expiresAt?: string;
  /** The operator's name for it; unique within the provider. */
  label?: string;
}

/** What `updateCredential` may change: its label and its place in the failover order. */
export interface CredentialChange {
  label?: string;
  priority?: number;
}

/** Checks a credential label. */
export function validateLabel(label: string): string {
  if (!LABEL_PATTERN.test(label))
    throw new InvalidError(
      `label '${label.slice(0, 64)}' must be 1-63 characters of a-z, 0-9, '.', '_' and '-'`,
      {
        field: 'label',
      },
    );
  return label;
}

/** Rejects names and URLs that could not be routed or that point somewhere unsafe. */
export function validateProviderInput(input: AddProviderInput): ProviderConfig {
  if (!NAME_PATTERN.test(input.name)) {
    throw new InvalidError(
      `provider name '${input.name}' must be 1-63 characters of a-z, 0-9, '.', '_' and '-'`,
    );
  }
  if (!isProviderType(input.type)) throw new InvalidError(`unknown provider type '${input.type}'`);
  let url: URL;
  try {
    url = new URL(input.baseUrl);
  } catch {
    throw new InvalidError(`base URL '${input.baseUrl}' is not a URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw new InvalidError('base URL must be http or https');
  if (url.username !== '' || url.password !== '')
    throw new InvalidError('base URL must not contain credentials');
  if (url.search !== '' || url.hash !== '')
    throw new InvalidError('base URL must not have a query or fragment');
  const models = (input.models ?? []).map((m) => m.trim()).filter((m) => m !== '');
  checkModels(models);
  return {
    provider: input.name,
    type: input.type,
    baseUrl: url.toString().replace(/\/+$/, ''),
    models: [...new Set(models)],
    prices: {},
    createdAt: new Date().toISOString(),
  };
}

/** A Secrets Manager ARN check, so typos fail at registration rather than at the first request. */
export function validateSecretArn(arn: string): string {
  if (!SECRET_ARN_PATTERN.test(arn)) throw new InvalidError(`'${arn}' is not a Secrets Manager secret ARN`);
  return arn;
}

/** Providers table access: the reads of {@link ProviderReader}, and every change, sealed and audited. */
export class ProviderStore extends ProviderReader {
  private readonly options: StoreOptions;

  /** `options.secrets` reads Secrets Manager references; without it they cannot be resolved. */
  constructor(
    db: DocumentDb,
    table: string,
    keyring: Keyring,
    options: StoreOptions & { secrets?: SecretSource } = {},
  ) {
    super(db, table, keyring, options.secrets);
    this.options = options;
  }

  private change(action: AuditAction, extra: { changeId?: string; cascade?: boolean } = {}): Change {
    return newChange(this.options.actor, action, { ...extra, at: this.options.now?.() ?? new Date() });
  }

  /**
   * Stamps an item with its `*.delete` change, then deletes it while it still carries that stamp (so the
   * stream's REMOVE names the deleter and no change made in between is lost unaudited) and, when given,
   * while its `version` is still the one read.
   */
  private async stampAndDelete(
    key: { provider: string; sk: string },
    lastChange: Change,
    target: { kind: string; id: string; version?: number },
  ): Promise<void> {
    const { kind, id, version } = target;
    const versionCondition =
      version === undefined ? '' : version === 0 ? ' AND attribute_not_exists(version)' : ' AND version = :v';
    try {
      await this.db.update({
        TableName: this.table,
        Key: key,
        UpdateExpression: 'SET lastChange = :change',
        ConditionExpression: 'attribute_exists(sk)',
        ExpressionAttributeValues: { ':change': lastChange },
      });
      await this.db.delete({
        TableName: this.table,
        Key: key,
        ConditionExpression: `lastChange.changeId = :changeId${versionCondition}`,
        ExpressionAttributeValues: {
          ':changeId': lastChange.changeId,
          ...(version === undefined || version === 0 ? {} : { ':v': version }),
        },
      });
    } catch (err) {
      if (!isConditionalCheckFailed(err)) throw err;
      const still = await this.db.get({ TableName: this.table, Key: key, ConsistentRead: true });
      throw still.Item === undefined
        ? new RecordNotFoundError(kind, id)
        : new ConcurrentChangeError(kind, id, { cause: err });
    }
  }

  private async bump(change: Change): Promise<void> {
    await bumpConfigVersion(this.db, this.table, change);
  }

  /**
   * Registers a provider with its first credential, both or neither (audited as one change); a provider
   * answered in process (`echo`) takes none. Everything is checked, and the credential sealed, before
   * anything is written.
   */
  async add(input: AddProviderInput, credential: CredentialInput | undefined): Promise<ProviderView> {
    const lastChange = this.change('provider.create');
    const config = validateProviderInput(input);
    const inProcess = adapterFor(config.type).inProcess !== undefined;
    if (inProcess !== (credential === undefined)) {
      throw new InvalidError(
        inProcess
          ? `provider type '${config.type}' is answered by the gateway itself and takes no credential`
          : `provider type '${config.type}' needs a credential`,
        { field: 'credential' },
      );
    }
    const item =
      credential === undefined
        ? undefined
        : await this.credentialItem(config.provider, credential, {
            existing: [],
            lastChange: this.change('credential.create', { changeId: lastChange.changeId, cascade: true }),
          });
    try {
      await this.db.transactWrite({
        TransactItems: [
          {
            Put: {
              TableName: this.table,
              Item: { ...config, sk: PROVIDER_SK, version: 1, lastChange },
              ConditionExpression: 'attribute_not_exists(provider)',
            },
          },
          ...(item === undefined ? [] : [{ Put: { TableName: this.table, Item: item } }]),
        ],
      });
    } catch (err) {
      if (cancellationCodes(err)?.[0] === 'ConditionalCheckFailed')
        throw new RecordExistsError('provider', input.name);
      throw err;
    }
    await this.bump(lastChange);
    return { ...config, credentials: item === undefined ? 0 : 1 };
  }

  /**
   * Stores one more credential; refuses one whose value or secret ARN is already registered. The write
   * holds only while the provider is as read (its `version`), so two racing additions of one value, or an
   * addition racing the provider's removal, cannot both succeed.
   */
  async addCredential(provider: string, input: CredentialInput): Promise<CredentialView> {
    const lastChange = this.change('credential.create');
    const items = await this.items(provider);
    const providerItem = items.find((item) => item.sk === PROVIDER_SK);
    if (providerItem === undefined) throw new RecordNotFoundError('provider', provider);
    const existing = items
      .filter((item) => item.sk.startsWith(CREDENTIAL_SK_PREFIX))
      .map((item) => item as unknown as CredentialItem);
    const item = await this.credentialItem(provider, input, { existing, lastChange });
    const read = Number(providerItem.version ?? 0);
    try {
      await this.db.transactWrite({
        TransactItems: [this.versionMove(provider, read), { Put: { TableName: this.table, Item: item } }],
      });
    } catch (err) {
      if (cancellationCodes(err) === undefined) throw err;
      throw (await this.get(provider)) === undefined
        ? new RecordNotFoundError('provider', provider)
        : new ConcurrentChangeError('provider', provider, { cause: err });
    }
    await this.bump(lastChange);
    return credentialView(item);
  }

  /**
   * The transaction step that moves a provider's `version` on, holding only while it is still `read`: a
   * credential written beside it cannot race another change of the provider's credentials.
   */
  private versionMove(provider: string, read: number) {
    return {
      Update: {
        TableName: this.table,
        Key: { provider, sk: PROVIDER_SK },
        UpdateExpression: 'SET version = :next',
        ConditionExpression:
          read === 0 ? 'attribute_exists(sk) AND attribute_not_exists(version)' : 'version = :read',
        ExpressionAttributeValues: { ':next': read + 1, ...(read === 0 ? {} : { ':read': read }) },
      },
    };
  }

  /** Refuses a credential source this installation's secret source cannot read. */
  private readableHere(source: CredentialView['source'], field: string): void {
    const reason = this.secrets?.refuses[source];
    if (reason !== undefined) throw new InvalidError(reason, { field });
  }

  /** Checks and seals one credential into its item; writes nothing. */
  private async credentialItem(
    provider: string,
    input: CredentialInput,
    context: { existing: readonly CredentialItem[]; lastChange: Change },
  ): Promise<CredentialItem & { lastChange: Change }> {
    const { existing, lastChange } = context;
    if (input.priority !== undefined && input.priority !== 0)
      checkCount(input.priority, 'priority', 1_000_000);
    if (input.expiresAt !== undefined && Number.isNaN(Date.parse(input.expiresAt)))
      throw new InputError('expires must be a date');
    if (input.label !== undefined) {
      const label = validateLabel(input.label);
      if (existing.some((c) => c.label === label)) throw new RecordExistsError('credential label', label);
    }
    const credentialId = randomUUID();
    const priority = input.priority ?? existing.reduce((max, c) => Math.max(max, c.priority + 1), 0);
    const base = {
      provider,
      sk: `${CREDENTIAL_SK_PREFIX}${credentialId}`,
      credentialId,
      priority,
      ...(input.label === undefined ? {} : { label: input.label }),
      createdAt: new Date().toISOString(),
      lastChange,
      ...(input.expiresAt === undefined ? {} : { expiresAt: input.expiresAt }),
    };
    if (input.secretArn !== undefined) {
      this.readableHere('secretsmanager', 'secretArn');
      const secretArn = validateSecretArn(input.secretArn);
      if (existing.some((c) => c.secretArn === secretArn))
        throw new RecordExistsError('credential for that secret ARN', provider);
      return { ...base, source: 'secretsmanager', secretArn };
    }
    const referenced = referenceOf(input);
    if (referenced !== undefined) {
      const { kind, reference } = referenced;
      this.readableHere(kind, REFERENCE_KINDS[kind].field);
      if (existing.some((c) => c.source === kind && c.reference === reference))
        throw new RecordExistsError(`credential for that ${REFERENCE_KINDS[kind].field}`, provider);
      return { ...base, source: kind, reference };
    }
    const secret = input.secret?.trim() ?? '';
    if (secret === '') throw new InvalidError('the credential is empty');
    if (secret.length > MAX_SECRET_LENGTH)
      throw new InputError(`the credential must be at most ${MAX_SECRET_LENGTH} characters`);
    const fingerprint = createHash('sha256').update(secret).digest('hex');
    if (existing.some((other) => other.fingerprint === fingerprint))
      throw new RecordExistsError('the same credential', provider);
    return {
      ...base,
      fingerprint,
      source: 'envelope',
      envelope: await seal(this.keyring, secret, { provider, credentialId }),
    };
  }

  /**
   * Relabels or reorders one credential without re-adding it. The write holds only while the credential
   * exists and the provider is as read (its `version`, which it moves), so two racing relabels cannot both
   * claim one label.
   */
  async updateCredential(
    provider: string,
    credentialId: string,
    change: CredentialChange,
  ): Promise<CredentialView> {
    const lastChange = this.change('credential.update');
    if (change.label === undefined && change.priority === undefined)
      throw new InvalidError('give a label or a priority to change', { field: 'label' });
    if (change.label !== undefined) validateLabel(change.label);
    if (change.priority !== undefined && change.priority !== 0)
      checkCount(change.priority, 'priority', 1_000_000);
    const items = await this.items(provider);
    const providerItem = items.find((item) => item.sk === PROVIDER_SK);
    const sk = `${CREDENTIAL_SK_PREFIX}${credentialId}`;
    const current = items.find((item) => item.sk === sk) as unknown as CredentialItem | undefined;
    if (providerItem === undefined || current === undefined)
      throw new RecordNotFoundError('credential', credentialId.slice(0, 64));
    if (
      change.label !== undefined &&
      items.some((i) => i.sk !== sk && i.sk.startsWith(CREDENTIAL_SK_PREFIX) && i.label === change.label)
    )
      throw new RecordExistsError('credential label', change.label);
    const read = Number(providerItem.version ?? 0);
    const sets = ['lastChange = :change'];
    const values: Record<string, unknown> = { ':change': lastChange };
    if (change.label !== undefined) {
      sets.push('label = :label');
      values[':label'] = change.label;
    }
    if (change.priority !== undefined) {
      sets.push('priority = :priority');
      values[':priority'] = change.priority;
    }
    try {
      await this.db.transactWrite({
        TransactItems: [
          this.versionMove(provider, read),
          {
            Update: {
              TableName: this.table,
              Key: { provider, sk },
              UpdateExpression: `SET ${sets.join(', ')}`,
              ConditionExpression: 'attribute_exists(sk)',
              ExpressionAttributeValues: values,
            },
          },
        ],
      });
    } catch (err) {
      if (cancellationCodes(err) === undefined) throw err;
      const still = await this.items(provider);
      throw still.some((i) => i.sk === sk)
        ? new ConcurrentChangeError('credential', credentialId, { cause: err })
        : new RecordNotFoundError('credential', credentialId);
    }
    await this.bump(lastChange);
    return credentialView({
      ...current,
      ...(change.label === undefined ? {} : { label: change.label }),
      ...(change.priority === undefined ? {} : { priority: change.priority }),
    });
  }

  /** Removes one credential. */
  async removeCredential(provider: string, credentialId: string): Promise<void> {
    const lastChange = this.change('credential.delete');
    if (!NAME_PATTERN.test(provider) || !CREDENTIAL_ID_PATTERN.test(credentialId))
      throw new RecordNotFoundError('credential', credentialId.slice(0, 64));
    await this.stampAndDelete({ provider, sk: `${CREDENTIAL_SK_PREFIX}${credentialId}` }, lastChange, {
      kind: 'credential',
      id: credentialId,
    });
    await this.bump(lastChange);
  }

  /**
   * Deletes a provider and all its credentials (audited as one change). The provider item goes last and
   * only while its `version` is the one read, so a credential added meanwhile is found and removed in
   * another round rather than left behind without its provider.
   */
  async remove(name: string): Promise<void> {
    const lastChange = this.change('provider.delete');
    for (let round = 0; round < 3; round++) {
      const items = await this.items(name);
      const providerItem = items.find((item) => item.sk === PROVIDER_SK);
      if (providerItem === undefined) throw new RecordNotFoundError('provider', name);
      for (const item of items.filter((i) => i.sk !== PROVIDER_SK)) {
        await this.stampAndDelete(
          { provider: name, sk: item.sk },
          this.change('credential.delete', { changeId: lastChange.changeId, cascade: true }),
          { kind: 'credential', id: item.sk },
        );
      }
      try {
        await this.stampAndDelete({ provider: name, sk: PROVIDER_SK }, lastChange, {
          kind: 'provider',
          id: name,
          version: Number(providerItem.version ?? 0),
        });
      } catch (err) {
        if (err instanceof ConcurrentChangeError) continue;
        throw err;
      }
      await this.bump(lastChange);
      return;
    }
    throw new ConcurrentChangeError('provider', name);
  }

  /** Sets a model's price (USD per million input and output tokens). */
  async setPrice(provider: string, model: string, price: ModelPrice): Promise<ProviderConfig> {
    const lastChange = this.change('price.set');
    if (!NAME_PATTERN.test(provider)) throw new RecordNotFoundError('provider', provider.slice(0, 64));
    if (model === '' || model.length > MAX_MODEL_LENGTH)
      throw new InputError(`a model id must be 1-${MAX_MODEL_LENGTH} characters`);
    for (const value of [price.inputPerMTok, price.outputPerMTok]) {
      if (!Number.isFinite(value) || value < 0 || value > 10_000)
        throw new InvalidError('prices must be USD per million tokens, from 0 to 10000');
    }
    try {
      const out = await this.db.update({
        TableName: this.table,
        Key: { provider, sk: PROVIDER_SK },
        UpdateExpression: 'SET prices.#m = :price, lastChange = :change',
        ConditionExpression: 'attribute_exists(provider)',
        ExpressionAttributeNames: { '#m': model },
        ExpressionAttributeValues: { ':price': price, ':change': lastChange },
        ReturnValues: 'ALL_NEW',
      });
      await this.bump(lastChange);
      return toConfig(out.Attributes ?? {});
    } catch (err) {
      if (isConditionalCheckFailed(err)) throw new RecordNotFoundError('provider', provider);
      throw err;
    }
  }

  /** Replaces a provider's model catalogue (a `models refresh`), audited as `provider.update`. */
  async setModels(provider: string, models: string[]): Promise<ProviderConfig> {
    const lastChange = this.change('provider.update');
    const catalogue = [...new Set(models.map((m) => m.trim()).filter((m) => m !== ''))];
    checkModels(catalogue);
    try {
      const out = await this.db.update({
        TableName: this.table,
        Key: { provider, sk: PROVIDER_SK },
        UpdateExpression: 'SET models = :models, lastChange = :change',
        ConditionExpression: 'attribute_exists(provider)',
        ExpressionAttributeValues: { ':models': catalogue, ':change': lastChange },
        ReturnValues: 'ALL_NEW',
      });
      await this.bump(lastChange);
      return toConfig(out.Attributes ?? {});
    } catch (err) {
      if (isConditionalCheckFailed(err)) throw new RecordNotFoundError('provider', provider);
      throw err;
    }
  }

  /** Creates or replaces an alias. Targets must be `provider/model` slugs. */
  async setAlias(name: string, targets: string[]): Promise<Alias> {
    const lastChange = this.change('alias.set');
    if (!NAME_PATTERN.test(name))
      throw new InvalidError(`alias name '${name}' must be 1-63 characters of a-z, 0-9, '.', '_' and '-'`);
    const cleaned = targets.map((t) => t.trim()).filter((t) => t !== '');
    if (cleaned.length === 0) throw new InvalidError('an alias needs at least one target');
    checkModels(cleaned, 'targets');
    for (const target of cleaned) {
      if (!/^[a-z0-9][a-z0-9._-]*\/.+$/.test(target))
        throw new InvalidError(`alias target '${target}' is not a provider/model slug`);
    }
    await this.db.put({
      TableName: this.table,
      Item: { provider: `${ALIAS_PREFIX}${name}`, sk: ALIAS_SK, name, targets: cleaned, lastChange },
    });
    await this.bump(lastChange);
    return { name, targets: cleaned };
  }

  /** Deletes an alias. */
  async removeAlias(name: string): Promise<void> {
    const lastChange = this.change('alias.delete');
    if (!NAME_PATTERN.test(name)) throw new RecordNotFoundError('alias', name.slice(0, 64));
    await this.stampAndDelete({ provider: `${ALIAS_PREFIX}${name}`, sk: ALIAS_SK }, lastChange, {
      kind: 'alias',
      id: name,
    });
    await this.bump(lastChange);
  }
}
