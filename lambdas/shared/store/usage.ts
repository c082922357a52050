/** Token usage counters per key, day and model, and the last upstream error per provider. */
import type { Usage } from '../providers/types.ts';
import { type DocumentDb, isConditionalCheckFailed, queryPages } from './db.ts';

/** One day of one key's use of one model. */
export interface UsageRow {
  day: string;
  model: string;
  requests: number;
  inputTokens: number;
  outputTokens: number;
}

/** An upstream's refusal (401/403) of one of the operator's credentials. */
export interface CredentialRejection {
  credentialId: string;
  status: number;
  at: string;
}

/** The last failure seen for a provider, and its credentials the upstream refused. */
export interface ProviderHealth {
  lastErrorClass?: string;
  lastErrorStatus?: number;
  lastErrorAt?: string;
  /** The latest refusal of each credential the upstream rejected, by credential id. */
  rejected: CredentialRejection[];
}

/** Usage table access. Counters are atomic `ADD`s, so concurrent requests never lose an update. */
export class UsageStore {
  private readonly db: DocumentDb;
  private readonly table: string;

  constructor(db: DocumentDb, table: string) {
    this.db = db;
    this.table = table;
  }

  /**
   * Adds one request's tokens to the key's counters for the day (UTC) and model slug. The row remembers
   * the last request it counted, so an attempt the SDK repeats after its answer was lost is not counted
   * twice — unless another request of the same key, day and model was counted in between, which only a
   * per-request mark on the row could rule out (the request log stays exact either way).
   */
  async record(entry: {
    keyId: string;
    model: string;
    usage: Usage;
    at: Date;
    requestId: string;
  }): Promise<void> {
    const day = entry.at.toISOString().slice(0, 10);
    try {
      await this.db.update({
        TableName: this.table,
        Key: { pk: `key#${entry.keyId}`, sk: `day#${day}#${entry.model}` },
        UpdateExpression:
          'ADD requests :one, inputTokens :in, outputTokens :out SET #day = :day, model = :model, lastRequest = :request',
        ConditionExpression: 'attribute_not_exists(lastRequest) OR lastRequest <> :request',
        ExpressionAttributeNames: { '#day': 'day' },
        ExpressionAttributeValues: {
          ':one': 1,
          ':in': entry.usage.inputTokens,
          ':out': entry.usage.outputTokens,
          ':day': day,
          ':model': entry.model,
          ':request': entry.requestId,
        },
      });
    } catch (err) {
      // The row already counted this request: the earlier attempt applied.
      if (!isConditionalCheckFailed(err)) throw err;
    }
  }

  /** A key's usage rows, oldest day first. */
  async forKey(keyId: string): Promise<UsageRow[]> {
    const rows: UsageRow[] = [];
    const pages = queryPages(this.db, {
      TableName: this.table,
      // The key's partition also holds its monthly spend counters; only the day rows are usage.
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :day)',
      ExpressionAttributeValues: { ':pk': `key#${keyId}`, ':day': 'day#' },
    });
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
    await this.db.update({
      TableName: this.table,
      Key: { pk: `health#${provider}`, sk: 'last-error' },
      UpdateExpression: 'SET lastErrorClass = :c, lastErrorAt = :at, lastErrorStatus = :s',
      ExpressionAttributeValues: { ':c': errorClass, ':at': at.toISOString(), ':s': status ?? 0 },
    });
  }

  /**
   * Marks one credential as refused by its upstream (401/403), beside the provider's last error, so
   * `/health` and `tollgate status` can say which of the operator's credentials to fix.
   */
  async markRejected(provider: string, rejection: CredentialRejection): Promise<void> {
    await this.db.update({
      TableName: this.table,
      Key: { pk: `health#${provider}`, sk: `rejected#${rejection.credentialId}` },
      UpdateExpression: 'SET credentialId = :id, lastErrorStatus = :s, lastErrorAt = :at',
      ExpressionAttributeValues: {
        ':id': rejection.credentialId,
        ':s': rejection.status,
        ':at': rejection.at,
      },
    });
  }

  /** A provider's latest failure and refused credentials, or undefined when nothing failed. */
  async health(provider: string): Promise<ProviderHealth | undefined> {
    const out = await this.db.query({
      TableName: this.table,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': `health#${provider}` },
    });
    const items = out.Items ?? [];
    if (items.length === 0) return undefined;
    const last = items.find((item) => item.sk === 'last-error');
    const status = Number(last?.lastErrorStatus ?? 0);
    return {
      ...(last === undefined
        ? {}
        : { lastErrorClass: String(last.lastErrorClass), lastErrorAt: String(last.lastErrorAt) }),
      ...(status > 0 ? { lastErrorStatus: status } : {}),
      rejected: items
        .filter((item) => String(item.sk).startsWith('rejected#'))
        .map((item) => ({
          credentialId: String(item.credentialId),
          status: Number(item.lastErrorStatus),
          at: String(item.lastErrorAt),
        })),
    };
  }
}
