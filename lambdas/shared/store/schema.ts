/**
 * Table definitions shared by the CDK stack (which creates them in AWS) and the local gateway (which
 * creates them in DynamoDB Local), so both always have the same keys, streams and TTL attributes.
 */

/** One DynamoDB table's shape. Attribute types are all strings in Tollgate's keys. */
export interface TableSpec {
  /** Logical name; also the suffix of the local table name. */
  readonly name: 'keys' | 'teams' | 'providers' | 'usage' | 'requestLog' | 'audit';
  readonly partitionKey: string;
  readonly sortKey?: string;
  /** Configuration tables stream NEW_AND_OLD_IMAGES to the audit pipeline. */
  readonly stream: boolean;
  /** Attribute holding the epoch-seconds expiry, when items expire. */
  readonly ttlAttribute?: string;
  /** Global secondary indexes, projecting every attribute; items without the partition attribute stay out. */
  readonly indexes?: readonly IndexSpec[];
}

/** One global secondary index. */
export interface IndexSpec {
  readonly name: string;
  readonly partitionKey: string;
  readonly sortKey: string;
}

/** The request log's indexes: a key's requests and a project's, each by time. */
export const REQUEST_LOG_INDEX = { byKey: 'byKey', byProject: 'byProject' } as const;

export const TABLES = {
  keys: { name: 'keys', partitionKey: 'keyId', stream: true },
  teams: { name: 'teams', partitionKey: 'teamId', stream: true },
  providers: { name: 'providers', partitionKey: 'provider', sortKey: 'sk', stream: true },
  // Per-minute rate items expire on their own.
  usage: { name: 'usage', partitionKey: 'pk', sortKey: 'sk', stream: false, ttlAttribute: 'expiresAt' },
  // Listing a key's or a project's requests is a query on an index, never a scan.
  requestLog: {
    name: 'requestLog',
    partitionKey: 'requestId',
    stream: false,
    ttlAttribute: 'expiresAt',
    indexes: [
      { name: REQUEST_LOG_INDEX.byKey, partitionKey: 'keyId', sortKey: 'at' },
      { name: REQUEST_LOG_INDEX.byProject, partitionKey: 'project', sortKey: 'at' },
    ],
  },
  // Append-only, never expiring: only the audit function may write it.
  audit: { name: 'audit', partitionKey: 'pk', sortKey: 'sk', stream: false },
} as const satisfies Record<string, TableSpec>;

export type TableName = keyof typeof TABLES;
