/**
 * Reading upstream providers, their credentials and model aliases from the providers table; the types of
 * what is stored there. `ProviderStore` (`providers.ts`) adds every change.
 *
 * Over 300 lines because the stored shapes, each documented, live beside the reads that decode them.
 */
import { type Envelope, type Keyring, open } from '../crypto/envelope.ts';
import { isProviderType, type ProviderType } from '../providers/index.ts';
import { readConfigVersion } from './config-version.ts';
import {
  isReferenceKind,
  REFERENCE_KINDS,
  type ReferenceKind,
  type ReferenceReader,
} from './credential-sources.ts';
import { type DocumentDb, queryPages, RecordNotFoundError, scanPages } from './db.ts';

export const PROVIDER_SK = 'provider';
export const CREDENTIAL_SK_PREFIX = 'cred#';
export const ALIAS_PREFIX = 'alias:';
export const ALIAS_SK = 'alias';
export const NAME_PATTERN = /^[a-z0-9][a-z0-9._-]{0,62}$/;

/** A registered upstream provider. */
export interface ProviderConfig {
  provider: string;
  type: ProviderType;
  /** Base URL in the official SDK's convention, e.g. `https://api.openai.com/v1`. */
  baseUrl: string;
  /** Upstream model ids offered in the catalogue. */
  models: string[];
  /** USD per million tokens, by upstream model id; a model without a price costs nothing. */
  prices: Record<string, ModelPrice>;
  createdAt: string;
}

/** A model's price in USD per million tokens. */
export interface ModelPrice {
  inputPerMTok: number;
  outputPerMTok: number;
}

/** A provider as listed to operators: configuration and how many credentials it holds. */
export interface ProviderView extends ProviderConfig {
  credentials: number;
}

/** A credential as operators see it: never its value. */
export interface CredentialView {
  /** The credential's own id (stored as `credentialId`, the name the encryption context binds). */
  id: string;
  /** The operator's name for it (e.g. `team-a`), by which keys and teams are bound to it. */
  label?: string;
  priority: number;
  source: 'envelope' | 'secretsmanager' | ReferenceKind;
  secretArn?: string;
  /** Where a referenced credential is read at run time: a parameter ARN, a file path or a variable name. */
  reference?: string;
  expiresAt?: string;
  createdAt: string;
}

/** A credential as stored. */
export interface CredentialItem extends Omit<CredentialView, 'id'> {
  credentialId: string;
  provider: string;
  sk: string;
  envelope?: Envelope;
  /** SHA-256 of the value, to refuse duplicates without decrypting (only the proxy may decrypt). */
  fingerprint?: string;
}

/** A decrypted credential, held only in memory. */
export interface Credential {
  credentialId: string;
  label?: string;
  priority: number;
  secret: string;
}

/** A provider with its usable credentials in priority order. */
export interface ResolvedProvider {
  config: ProviderConfig;
  credentials: Credential[];
}

/** An operator-defined model name resolving to an ordered list of `provider/model` targets. */
export interface Alias {
  name: string;
  targets: string[];
}

/** Reads Secrets Manager, Parameter Store and local references at run time. */
export interface SecretSource extends ReferenceReader {
  getSecretValue(secretArn: string): Promise<string>;
  /**
   * The credential sources this place cannot read, each with the reason: a credential of such a source is
   * refused when it is added (a 400 on every management path), rather than failing at its first request.
   */
  refuses: Partial<Record<CredentialView['source'], string>>;
}

/** Accepts a raw secret string, or JSON with an `apiKey`, `api_key` or `key` field. */
export function credentialFromSecretString(value: string): string {
  const trimmed = value.trim();
  if (trimmed.startsWith('{')) {
    try {
      const parsed = JSON.parse(trimmed) as Record<string, unknown>;
      const field = parsed.apiKey ?? parsed.api_key ?? parsed.key;
      if (typeof field === 'string' && field !== '') return field;
    } catch {
      // Not JSON after all: the raw string is the credential.
    }
  }
  return trimmed;
}

/** Providers table access. Credentials are sealed on the way in and opened only by {@link resolve}. */

/**
 * Reads of the providers table: providers, their credentials (opened only by {@link ProviderReader.resolve})
 * and aliases. The request path needs nothing else, so its bundle carries this and not the writes of
 * `ProviderStore` (`providers.ts`).
 */
export class ProviderReader {
  protected readonly db: DocumentDb;
  protected readonly table: string;
  protected readonly keyring: Keyring;
  protected readonly secrets: SecretSource | undefined;

  /** `secrets` reads Secrets Manager and other references; without it they cannot be resolved. */
  constructor(db: DocumentDb, table: string, keyring: Keyring, secrets?: SecretSource) {
    this.db = db;
    this.table = table;
    this.keyring = keyring;
    this.secrets = secrets;
  }

  /** The configuration version: it moves whenever a provider, credential, price or alias changes. */
  async configVersion(): Promise<number> {
    return readConfigVersion(this.db, this.table);
  }

  /** A provider's credentials in priority order, without values. */
  async listCredentials(provider: string): Promise<CredentialView[]> {
    const items = await this.items(provider);
    if (!items.some((item) => item.sk === PROVIDER_SK)) throw new RecordNotFoundError('provider', provider);
    return sortCredentials(
      items
        .filter((i) => i.sk.startsWith(CREDENTIAL_SK_PREFIX))
        .map((i) => credentialView(i as unknown as CredentialItem)),
    );
  }

  /** Every provider with its credential count, by name. */
  async list(): Promise<ProviderView[]> {
    const configs = new Map<string, ProviderConfig>();
    const counts = new Map<string, number>();
    for await (const page of scanPages(this.db, { TableName: this.table, ConsistentRead: true })) {
      for (const item of page.Items ?? []) {
        const name = String(item.provider);
        if (item.sk === PROVIDER_SK) configs.set(name, toConfig(item));
        else if (String(item.sk).startsWith(CREDENTIAL_SK_PREFIX))
          counts.set(name, (counts.get(name) ?? 0) + 1);
      }
    }
    return [...configs.values()]
      .map((config) => ({ ...config, credentials: counts.get(config.provider) ?? 0 }))
      .sort((a, b) => a.provider.localeCompare(b.provider));
  }

  /** One provider's configuration, or undefined. */
  async get(name: string): Promise<ProviderConfig | undefined> {
    if (!NAME_PATTERN.test(name)) return undefined;
    const out = await this.db.get({
      TableName: this.table,
      Key: { provider: name, sk: PROVIDER_SK },
      ConsistentRead: true,
    });
    return out.Item === undefined ? undefined : toConfig(out.Item);
  }

  /**
   * The provider and its usable credentials in priority order (expired ones left out), or undefined if
   * not registered. Envelope credentials are decrypted; Secrets Manager references are read.
   */
  async resolve(name: string): Promise<ResolvedProvider | undefined> {
    const items = await this.items(name);
    const configItem = items.find((item) => item.sk === PROVIDER_SK);
    if (configItem === undefined) return undefined;
    const now = new Date().toISOString();
    const credentialItems = sortCredentials(
      items
        .filter((item) => item.sk.startsWith(CREDENTIAL_SK_PREFIX))
        .map((item) => item as unknown as CredentialItem),
    ).filter((item) => item.expiresAt === undefined || item.expiresAt > now);
    const credentials = await Promise.all(
      credentialItems.map(async (item) => ({
        credentialId: item.credentialId,
        ...(item.label === undefined ? {} : { label: item.label }),
        priority: item.priority,
        secret: await this.openItem(item),
      })),
    );
    return { config: toConfig(configItem), credentials };
  }

  /** One alias, or undefined. */
  async getAlias(name: string): Promise<Alias | undefined> {
    if (!NAME_PATTERN.test(name)) return undefined;
    const out = await this.db.get({
      TableName: this.table,
      Key: { provider: `${ALIAS_PREFIX}${name}`, sk: ALIAS_SK },
      ConsistentRead: true,
    });
    return out.Item === undefined
      ? undefined
      : { name: String(out.Item.name), targets: out.Item.targets as string[] };
  }

  /** Every alias, by name. */
  async listAliases(): Promise<Alias[]> {
    const aliases: Alias[] = [];
    for await (const page of scanPages(this.db, { TableName: this.table, ConsistentRead: true })) {
      for (const item of page.Items ?? []) {
        if (item.sk === ALIAS_SK)
          aliases.push({ name: String(item.name), targets: item.targets as string[] });
      }
    }
    return aliases.sort((a, b) => a.name.localeCompare(b.name));
  }

  protected async openItem(item: CredentialItem): Promise<string> {
    if (item.source === 'secretsmanager' && item.secretArn !== undefined) {
      if (this.secrets === undefined) throw new Error('Secrets Manager references are not available here');
      return credentialFromSecretString(await this.secrets.getSecretValue(item.secretArn));
    }
    if (isReferenceKind(item.source) && item.reference !== undefined) {
      if (this.secrets === undefined) throw new Error('credential references are not available here');
      const value = await REFERENCE_KINDS[item.source].read(this.secrets, item.reference);
      return credentialFromSecretString(value);
    }
    if (item.envelope === undefined) throw new Error(`credential ${item.credentialId} has no value`);
    return open(this.keyring, item.envelope, { provider: item.provider, credentialId: item.credentialId });
  }

  protected async items(name: string): Promise<Array<Record<string, unknown> & { sk: string }>> {
    const items: Array<Record<string, unknown> & { sk: string }> = [];
    // A name no provider can have is absent without a read (and never reaches DynamoDB's key-size limits).
    if (!NAME_PATTERN.test(name)) return items;
    const pages = queryPages(this.db, {
      TableName: this.table,
      KeyConditionExpression: 'provider = :p',
      ExpressionAttributeValues: { ':p': name },
      ConsistentRead: true,
    });
    for await (const page of pages) {
      for (const item of page.Items ?? []) items.push(item as Record<string, unknown> & { sk: string });
    }
    return items;
  }
}

export function sortCredentials<T extends { priority: number; createdAt: string }>(items: T[]): T[] {
  return [...items].sort((a, b) => a.priority - b.priority || a.createdAt.localeCompare(b.createdAt));
}

export function credentialView(item: CredentialItem): CredentialView {
  return {
    id: item.credentialId,
    ...(item.label === undefined ? {} : { label: item.label }),
    priority: item.priority,
    source: item.source,
    createdAt: item.createdAt,
    ...(item.secretArn === undefined ? {} : { secretArn: item.secretArn }),
    ...(item.reference === undefined ? {} : { reference: item.reference }),
    ...(item.expiresAt === undefined ? {} : { expiresAt: item.expiresAt }),
  };
}

export function toConfig(item: Record<string, unknown>): ProviderConfig {
  const type = String(item.type);
  if (!isProviderType(type))
    throw new Error(`provider '${String(item.provider)}' has unknown type '${type}'`);
  return {
    provider: String(item.provider),
    type,
    baseUrl: String(item.baseUrl),
    models: Array.isArray(item.models) ? item.models.map(String) : [],
    prices: (item.prices ?? {}) as Record<string, ModelPrice>,
    createdAt: String(item.createdAt),
  };
}
