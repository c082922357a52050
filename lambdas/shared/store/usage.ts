/** Token usage counters per key, day and model, and the last upstream error per provider. */
import { type DynamoDBDocumentClient, GetCommand, paginateQuery, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Usage } from '../providers/types.ts';

/** One day of one key's use of one model. */
export interface UsageRow {
  day: string;
  model: string;
  requests: number;
  inputTokens: number;
  outputTokens: number;
}

/** The last failure seen for a provider. */
export interface ProviderHealth {
  lastErrorClass: string;
  lastErrorStatus?: number;
  lastErrorAt: string;
}

/** Usage table access. Counters are atomic `ADD`s, so concurrent requests never lose an update. */
export class UsageStore {
  private readonly db: DynamoDBDocumentClient;
  private readonly table: string;

  constructor(db: DynamoDBDocumentClient, table: string) {
    this.db = db;
    this.table = table;
  }

  /** Adds one request's tokens to the key's counters for the day (UTC) and model slug. */
  async record(keyId: string, model: string, usage: Usage, at: Date = new Date()): Promise<void> {
    const day = at.toISOString().slice(0, 10);
    await this.db.send(
      new UpdateCommand({
        TableName: this.table,
        Key: { pk: `key#${keyId}`, sk: `day#${day}#${model}` },
        UpdateExpression:
          'ADD requests :one, inputTokens :in, outputTokens :out SET #day = :day, model = :model',
        ExpressionAttributeNames: { '#day': 'day' },
        ExpressionAttributeValues: {
          ':one': 1,
          ':in': usage.inputTokens,
          ':out': usage.outputTokens,
          ':day': day,
          ':model': model,
        },
      }),
    );
  }

  /** A key's usage rows, oldest day first. */
  async forKey(keyId: string): Promise<UsageRow[]> {
    const rows: UsageRow[] = [];
    const pages = paginateQuery(
      { client: this.db },
      {
        TableName: this.table,
        // The key's partition also holds its monthly spend counters; only the day rows are usage.
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :day)',
        ExpressionAttributeValues: { ':pk': `key#${keyId}`, ':day': 'day#' },
      },
    );
    for await (const page of pages) {
      for (const item of page.Items ?? []) {
        rows.push({
          day: String(item.day),
          model: String(item.model),
          requests: Number(item.requests ?? 0),
          inputTokens: Number(item.inputTokens ?? 0),
          outputTokens: Number(item.outputTokens ?? 0),
        });
      }
    }
    return rows;
  }

  /** Remembers a provider's latest failure: its class (e.g. `rate_limited`, `upstream_5xx`), status and time. */
  async recordFailure(
    provider: string,
    errorClass: string,
    status: number | undefined,
    at: Date = new Date(),
  ): Promise<void> {
    await this.db.send(
      new UpdateCommand({
        TableName: this.table,
        Key: { pk: `health#${provider}`, sk: 'last-error' },
        UpdateExpression: 'SET lastErrorClass = :c, lastErrorAt = :at, lastErrorStatus = :s',
        ExpressionAttributeValues: { ':c': errorClass, ':at': at.toISOString(), ':s': status ?? 0 },
      }),
    );
  }

  /** A provider's latest failure, if any. */
  async health(provider: string): Promise<ProviderHealth | undefined> {
    const out = await this.db.send(
      new GetCommand({ TableName: this.table, Key: { pk: `health#${provider}`, sk: 'last-error' } }),
    );
    if (out.Item === undefined) return undefined;
    const status = Number(out.Item.lastErrorStatus ?? 0);
    return {
      lastErrorClass: String(out.Item.lastErrorClass),
      lastErrorAt: String(out.Item.lastErrorAt),
      ...(status > 0 ? { lastErrorStatus: status } : {}),
    };
  }
}
