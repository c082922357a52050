/** The request log: one item per request, no prompt or completion content, expiring after the retention. */
import { type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';

/** One logged request. Money is in micro-USD. */
export interface RequestLogEntry {
  requestId: string;
  keyId: string;
  teamId?: string;
  route: string;
  model?: string;
  provider?: string;
  status: number;
  inputTokens: number;
  outputTokens: number;
  costMicros: number;
  ttfbMs?: number;
  durationMs: number;
  disconnected: boolean;
  at: string;
}

/** Request log table access. */
export class RequestLogStore {
  private readonly db: DynamoDBDocumentClient;
  private readonly table: string;
  private readonly retentionDays: number;

  constructor(db: DynamoDBDocumentClient, table: string, retentionDays: number) {
    this.db = db;
    this.table = table;
    this.retentionDays = retentionDays;
  }

  /** Writes one entry; DynamoDB deletes it after the retention (TTL on `expiresAt`). */
  async put(entry: RequestLogEntry): Promise<void> {
    const expiresAt = Math.floor(Date.parse(entry.at) / 1000) + this.retentionDays * 86_400;
    await this.db.send(new PutCommand({ TableName: this.table, Item: { ...entry, expiresAt } }));
  }

  /** One entry by request id, or undefined. */
  async get(requestId: string): Promise<RequestLogEntry | undefined> {
    const out = await this.db.send(new GetCommand({ TableName: this.table, Key: { requestId } }));
    if (out.Item === undefined) return undefined;
    const { expiresAt: _ttl, ...entry } = out.Item;
    return entry as RequestLogEntry;
  }
}
