/**
 * Turning DynamoDB stream records of the configuration tables into audit entries: who (from the item's
 * `lastChange`), what (the action), which item, and a before/after diff of an allowlist of attributes, so
 * hashes, ciphertexts and credentials can never reach the audit log, whatever fields are added later.
 */
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { AttributeValue, DynamoDBRecord } from 'aws-lambda';
import { AUDIT_ACTIONS, type AuditAction, type Change } from '../store/attribution.ts';

/** Attributes that may appear in an audit diff, by table kind. Anything else is left out. */
export const DIFF_ALLOWLIST = {
  keys: [
    'keyId',
    'name',
    'status',
    'models',
    'credentials',
    'teamId',
    'expiresAt',
    'monthlyLimitMicros',
    'rpm',
    'tpm',
    'imported',
    'rotatedAt',
    'previousValidUntil',
    'shards',
    'previousShards',
    'shardsFrom',
  ],
  teams: [
    'teamId',
    'name',
    'status',
    'budgetMicros',
    'credentials',
    'shards',
    'previousShards',
    'shardsFrom',
  ],
  providers: [
    'provider',
    'type',
    'baseUrl',
    'models',
    'prices',
    'credentialId',
    'label',
    'priority',
    'source',
    'secretArn',
    'expiresAt',
    'name',
    'targets',
    'defaultPrice',
    'budgetMicros',
    'shards',
    'previousShards',
    'shardsFrom',
  ],
} as const;

export type AuditedTable = keyof typeof DIFF_ALLOWLIST;

/** One change, ready to be chained. */
export interface AuditEntry {
  /** The stream record's event id: replaying it must not add a second entry. */
  eventId: string;
  time: string;
  actor: string;
  action: AuditAction;
  changeId: string;
  target: { table: AuditedTable; id: string };
  /** Changed allowlisted attributes: `{ field: { before, after } }`. */
  diff: Record<string, { before: unknown; after: unknown }>;
}

/** A stream record that must not be retried: it can never become an audit entry. */
export class PoisonRecordError extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'PoisonRecordError';
  }
}

type Image = Record<string, unknown>;

function image(value: Record<string, AttributeValue> | undefined): Image | undefined {
  // aws-lambda's AttributeValue and the SDK's are the same wire shape, typed apart.
  return value === undefined ? undefined : unmarshall(value as Parameters<typeof unmarshall>[0]);
}

function isChange(value: unknown): value is Change {
  if (typeof value !== 'object' || value === null) return false;
  const c = value as Record<string, unknown>;
  return (
    typeof c.actor === 'string' &&
    c.actor !== '' &&
    typeof c.changeId === 'string' &&
    typeof c.at === 'string' &&
    typeof c.action === 'string' &&
    (AUDIT_ACTIONS as readonly string[]).includes(c.action)
  );
}

/** The audited table a stream ARN belongs to, from the table name's suffix. */
export function tableOf(
  eventSourceArn: string | undefined,
  names: Readonly<Record<AuditedTable, string>>,
): AuditedTable | undefined {
  const tableName = /:table\/([^/]+)\/stream\//.exec(eventSourceArn ?? '')?.[1];
  return (Object.keys(names) as AuditedTable[]).find((t) => names[t] === tableName);
}

function targetId(table: AuditedTable, item: Image): string {
  if (table === 'keys') return String(item.keyId);
  if (table === 'teams') return String(item.teamId);
  return item.sk === 'provider' ? String(item.provider) : `${String(item.provider)}/${String(item.sk)}`;
}

function allowed(table: AuditedTable, item: Image | undefined): Image {
  const out: Image = {};
  for (const field of DIFF_ALLOWLIST[table])
    if (item !== undefined && item[field] !== undefined) out[field] = item[field];
  return out;
}

/** The changed allowlisted attributes between two images. */
export function diffOf(
  table: AuditedTable,
  before: Image | undefined,
  after: Image | undefined,
): AuditEntry['diff'] {
  const a = allowed(table, before);
  const b = allowed(table, after);
  const diff: AuditEntry['diff'] = {};
  for (const field of new Set([...Object.keys(a), ...Object.keys(b)])) {
    if (JSON.stringify(a[field]) !== JSON.stringify(b[field]))
      diff[field] = { before: a[field] ?? null, after: b[field] ?? null };
  }
  return diff;
}

/**
 * The audit entry for one stream record, or `undefined` when the record is part of a change audited
 * elsewhere (a cascade, or the deleter's stamp that precedes a REMOVE).
 * @throws {PoisonRecordError} when the record is not attributed (a write that bypassed the stores).
 */
export function entryFor(record: DynamoDBRecord, table: AuditedTable): AuditEntry | undefined {
  const before = image(record.dynamodb?.OldImage);
  const after = image(record.dynamodb?.NewImage);
  const eventId = record.eventID;
  if (eventId === undefined) throw new PoisonRecordError('stream record without an event id');
  const change = record.eventName === 'REMOVE' ? before?.lastChange : after?.lastChange;
  if (!isChange(change))
    throw new PoisonRecordError(`unattributed ${record.eventName ?? 'change'} on ${table}`);
  if (change.cascade === true) return undefined;
  const deleting = change.action.endsWith('.delete');
  if (record.eventName !== 'REMOVE' && deleting) return undefined;
  if (record.eventName === 'REMOVE' && !deleting)
    throw new PoisonRecordError(`delete on ${table} without a delete stamp`);
  if (
    record.eventName === 'MODIFY' &&
    isChange(before?.lastChange) &&
    before.lastChange.changeId === change.changeId
  ) {
    // The same change seen twice on one item (a stamp re-applied): nothing new to record.
    return undefined;
  }
  const item = after ?? before;
  if (item === undefined) throw new PoisonRecordError('stream record without an image');
  return {
    eventId,
    time: change.at,
    actor: change.actor,
    action: change.action,
    changeId: change.changeId,
    target: { table, id: targetId(table, item) },
    diff: diffOf(table, before, after),
  };
}
