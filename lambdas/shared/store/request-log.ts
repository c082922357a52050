/**
 * The request log: one item per request, no prompt or completion content, expiring after the retention.
 * A key's and a project's requests are read newest first from the table's indexes (see `schema.ts`).
 */
import { InvalidError } from '../operations/errors.ts';
import type { DocumentDb } from './db.ts';
import { REQUEST_LOG_INDEX } from './schema.ts';

/** One logged request. Money is in micro-USD. */
export interface RequestLogEntry {
  requestId: string;
  keyId: string;
  teamId?: string;
  /** The project the client named (`project_id` in the body or `x-tollgate-project`). */
  project?: string;
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

/** Which of a key's or a project's requests to read. Times are ISO 8601, both ends included. */
export interface RequestQuery {
  since?: string | undefined;
  until?: string | undefined;
  status?: number | undefined;
  /** At most this many entries in one page. */
  limit: number;
  /** `nextCursor` of the previous page. */
  cursor?: string | undefined;
}

/** One page of requests, newest first; `nextCursor` is absent on the last page. */
export interface RequestPage {
  requests: RequestLogEntry[];
  nextCursor?: string;
}

/** The index a listing reads and the value it is partitioned on. */
interface Listing {
  index: 'byKey' | 'byProject';
  value: string;
}

const PARTITION = { byKey: 'keyId', byProject: 'project' } as const;
const EARLIEST = '0000-01-01T00:00:00.000Z';
const LATEST = '9999-12-31T23:59:59.999Z';

/**
 * A page's position as an opaque string: the index item DynamoDB stopped at. Decoding checks it is one of
 * the same listing, since a cursor from another key would make DynamoDB refuse the query.
 */
function encodeCursor(key: Record<string, unknown>): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

function decodeCursor(cursor: string, listing: Listing): Record<string, string> {
  const refused = (cause?: unknown) =>
    new InvalidError('cursor is not one this listing returned', { field: 'cursor', cause });
  let key: unknown;
  try {
    key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch (err) {
    throw refused(err);
  }
  const fields = ['requestId', 'at', PARTITION[listing.index]];
  if (
    typeof key !== 'object' ||
    key === null ||
    Object.keys(key).length !== fields.length ||
    !fields.every((f) => typeof (key as Record<string, unknown>)[f] === 'string') ||
    (key as Record<string, string>)[PARTITION[listing.index]] !== listing.value
  )
    throw refused();
  return key as Record<string, string>;
}

function entryOf(item: Record<string, unknown>): RequestLogEntry {
  const { expiresAt: _ttl, ...entry } = item;
  return entry as unknown as RequestLogEntry;
}

/** Request log table access. */
export class RequestLogStore {
  private readonly db: DocumentDb;
  private readonly table: string;
  private readonly retentionDays: number;

  constructor(db: DocumentDb, table: string, retentionDays: number) {
    this.db = db;
    this.table = table;
    this.retentionDays = retentionDays;
  }

  /** Writes one entry; DynamoDB deletes it after the retention (TTL on `expiresAt`). */
  async put(entry: RequestLogEntry): Promise<void> {
    const expiresAt = Math.floor(Date.parse(entry.at) / 1000) + this.retentionDays * 86_400;
    await this.db.put({ TableName: this.table, Item: { ...entry, expiresAt } });
  }

  /** One entry by request id, or undefined. */
  async get(requestId: string): Promise<RequestLogEntry | undefined> {
    const out = await this.db.get({ TableName: this.table, Key: { requestId } });
    return out.Item === undefined ? undefined : entryOf(out.Item);
  }

  /** A key's requests, newest first, one page at a time (a query of the `byKey` index). */
  async forKey(keyId: string, query: RequestQuery): Promise<RequestPage> {
    return this.page({ index: 'byKey', value: keyId }, query);
  }

  /** A project's requests, newest first, one page at a time (a query of the `byProject` index). */
  async forProject(project: string, query: RequestQuery): Promise<RequestPage> {
    return this.page({ index: 'byProject', value: project }, query);
  }

  /**
   * Reads pages until `limit` entries passed the status filter or the range is exhausted: a filter is
   * applied after DynamoDB's `Limit`, so one round trip may return fewer than asked.
   */
  private async page(listing: Listing, query: RequestQuery): Promise<RequestPage> {
    const requests: RequestLogEntry[] = [];
    let start = query.cursor === undefined ? undefined : decodeCursor(query.cursor, listing);
    do {
      const out = await this.db.query({
        TableName: this.table,
        IndexName: REQUEST_LOG_INDEX[listing.index],
        KeyConditionExpression: '#p = :p AND #at BETWEEN :since AND :until',
        ...(query.status === undefined ? {} : { FilterExpression: '#status = :status' }),
        ExpressionAttributeNames: {
          '#p': PARTITION[listing.index],
          '#at': 'at',
          ...(query.status === undefined ? {} : { '#status': 'status' }),
        },
        ExpressionAttributeValues: {
          ':p': listing.value,
          ':since': query.since ?? EARLIEST,
          ':until': query.until ?? LATEST,
          ...(query.status === undefined ? {} : { ':status': query.status }),
        },
        ScanIndexForward: false,
        Limit: query.limit - requests.length,
        ...(start === undefined ? {} : { ExclusiveStartKey: start }),
      });
      requests.push(...(out.Items ?? []).map(entryOf));
      start = out.LastEvaluatedKey as Record<string, string> | undefined;
    } while (start !== undefined && requests.length < query.limit);
    return { requests, ...(start === undefined ? {} : { nextCursor: encodeCursor(start) }) };
  }
}
