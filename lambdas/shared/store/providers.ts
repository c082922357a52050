/** Persistence of upstream providers and their envelope-encrypted credentials. */
import { randomUUID } from 'node:crypto';
import {
  BatchWriteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  paginateQuery,
  paginateScan,
} from '@aws-sdk/lib-dynamodb';
import { type Envelope, type Keyring, open, seal } from '../crypto/envelope.ts';
import { isProviderType, type ProviderType } from '../providers/index.ts';
import { isConditionalCheckFailed, RecordExistsError, RecordNotFoundError } from './db.ts';

const PROVIDER_SK = 'provider';
const CREDENTIAL_SK_PREFIX = 'cred#';
const NAME_PATTERN = /^[a-z0-9][a-z0-9._-]{0,62}$/;

/** A registered upstream provider. */
export interface ProviderConfig {
  provider: string;
  type: ProviderType;
  /** Base URL in the official SDK's convention, e.g. `https://api.openai.com/v1`. */
  baseUrl: string;
  createdAt: string;
}

/** A provider as listed to operators: configuration and how many credentials it holds. */
export interface ProviderView extends ProviderConfig {
  credentials: number;
}

interface CredentialItem {
  provider: string;
  sk: string;
  credentialId: string;
  priority: number;
  envelope: Envelope;
  createdAt: string;
}

/** A decrypted credential, held only in memory. */
export interface Credential {
  credentialId: string;
  priority: number;
  secret: string;
}

/** A provider with its decrypted credentials in priority order. */
export interface ResolvedProvider {
  config: ProviderConfig;
  credentials: Credential[];
}

/** Input for registering a provider. */
export interface AddProviderInput {
  name: string;
  type: string;
  baseUrl: string;
}

/** Rejects names and URLs that could not be routed or that point somewhere unsafe. */
export function validateProviderInput(input: AddProviderInput): ProviderConfig {
  if (!NAME_PATTERN.test(input.name)) {
    throw new Error(`provider name '${input.name}' must be 1-63 characters of a-z, 0-9, '.', '_' and '-'`);
  }
  if (!isProviderType(input.type)) throw new Error(`unknown provider type '${input.type}'`);
  let url: URL;
  try {
    url = new URL(input.baseUrl);
  } catch {
    throw new Error(`base URL '${input.baseUrl}' is not a URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw new Error('base URL must be http or https');
  if (url.username !== '' || url.password !== '') throw new Error('base URL must not contain credentials');
  if (url.search !== '' || url.hash !== '') throw new Error('base URL must not have a query or fragment');
  return {
    provider: input.name,
    type: input.type,
    baseUrl: url.toString().replace(/\/+$/, ''),
    createdAt: new Date().toISOString(),
  };
}

/** Providers table access. Credentials are sealed on the way in and opened only by {@link resolve}. */
export class ProviderStore {
  private readonly db: DynamoDBDocumentClient;
  private readonly table: string;
  private readonly keyring: Keyring;

  constructor(db: DynamoDBDocumentClient, table: string, keyring: Keyring) {
    this.db = db;
    this.table = table;
    this.keyring = keyring;
  }

  /** Registers a provider with its first credential. */
  async add(input: AddProviderInput, credential: string): Promise<ProviderView> {
    const config = validateProviderInput(input);
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.table,
          Item: { ...config, sk: PROVIDER_SK },
          ConditionExpression: 'attribute_not_exists(provider)',
        }),
      );
    } catch (err) {
      if (isConditionalCheckFailed(err)) throw new RecordExistsError('provider', input.name);
      throw err;
    }
    await this.addCredential(config.provider, credential, 0);
    return { ...config, credentials: 1 };
  }

  /** Seals and stores one more credential for a provider. */
  async addCredential(provider: string, secret: string, priority: number): Promise<string> {
    if (secret.trim() === '') throw new Error('the credential is empty');
    const credentialId = randomUUID();
    const envelope = await seal(this.keyring, secret.trim(), { provider, credentialId });
    const item: CredentialItem = {
      provider,
      sk: `${CREDENTIAL_SK_PREFIX}${credentialId}`,
      credentialId,
      priority,
      envelope,
      createdAt: new Date().toISOString(),
    };
    await this.db.send(new PutCommand({ TableName: this.table, Item: item }));
    return credentialId;
  }

  /** Every provider with its credential count, by name. */
  async list(): Promise<ProviderView[]> {
    const configs = new Map<string, ProviderConfig>();
    const counts = new Map<string, number>();
    for await (const page of paginateScan(
      { client: this.db },
      { TableName: this.table, ConsistentRead: true },
    )) {
      for (const item of page.Items ?? []) {
        const name = String(item.provider);
        if (item.sk === PROVIDER_SK) configs.set(name, toConfig(item));
        else counts.set(name, (counts.get(name) ?? 0) + 1);
      }
    }
    return [...configs.values()]
      .map((config) => ({ ...config, credentials: counts.get(config.provider) ?? 0 }))
      .sort((a, b) => a.provider.localeCompare(b.provider));
  }

  /** One provider's configuration, or undefined. */
  async get(name: string): Promise<ProviderConfig | undefined> {
    const out = await this.db.send(
      new GetCommand({
        TableName: this.table,
        Key: { provider: name, sk: PROVIDER_SK },
        ConsistentRead: true,
      }),
    );
    return out.Item === undefined ? undefined : toConfig(out.Item);
  }

  /** Deletes a provider and all its credentials. */
  async remove(name: string): Promise<void> {
    const items = await this.items(name);
    if (!items.some((item) => item.sk === PROVIDER_SK)) throw new RecordNotFoundError('provider', name);
    for (let i = 0; i < items.length; i += 25) {
      const batch = items.slice(i, i + 25).map((item) => ({
        DeleteRequest: { Key: { provider: name, sk: item.sk } },
      }));
      await this.db.send(new BatchWriteCommand({ RequestItems: { [this.table]: batch } }));
    }
  }

  /** The provider and its decrypted credentials in priority order, or undefined if not registered. */
  async resolve(name: string): Promise<ResolvedProvider | undefined> {
    const items = await this.items(name);
    const configItem = items.find((item) => item.sk === PROVIDER_SK);
    if (configItem === undefined) return undefined;
    const credentialItems = items
      .filter((item) => item.sk.startsWith(CREDENTIAL_SK_PREFIX))
      .map((item) => item as unknown as CredentialItem)
      .sort((a, b) => a.priority - b.priority || a.createdAt.localeCompare(b.createdAt));
    const credentials = await Promise.all(
      credentialItems.map(async (item) => ({
        credentialId: item.credentialId,
        priority: item.priority,
        secret: await open(this.keyring, item.envelope, { provider: name, credentialId: item.credentialId }),
      })),
    );
    return { config: toConfig(configItem), credentials };
  }

  private async items(name: string): Promise<Array<Record<string, unknown> & { sk: string }>> {
    const items: Array<Record<string, unknown> & { sk: string }> = [];
    const pages = paginateQuery(
      { client: this.db },
      {
        TableName: this.table,
        KeyConditionExpression: 'provider = :p',
        ExpressionAttributeValues: { ':p': name },
        ConsistentRead: true,
      },
    );
    for await (const page of pages) {
      for (const item of page.Items ?? []) items.push(item as Record<string, unknown> & { sk: string });
    }
    return items;
  }
}

function toConfig(item: Record<string, unknown>): ProviderConfig {
  const type = String(item.type);
  if (!isProviderType(type))
    throw new Error(`provider '${String(item.provider)}' has unknown type '${type}'`);
  return {
    provider: String(item.provider),
    type,
    baseUrl: String(item.baseUrl),
    createdAt: String(item.createdAt),
  };
}
