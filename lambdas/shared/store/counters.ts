/**
 * The usage table's reservation counters and the receipts that make every change to them idempotent.
 *
 * A counter item (a key's, a team shard's or the installation shard's month; a key's rate minute) keeps
 * `spr` = spent + reserved, which its admission condition compares with `limit − estimate`, and one
 * attribute per reservation it holds. Admission adds the receipt with the reservation; settlement, release
 * and reconciliation each remove it under the condition that it still exists, so whichever comes first
 * applies and a retry or a late duplicate changes nothing.
 *
 * A receipt is as small as it can be while still naming its request, because it lives on the counter for
 * as long as the request does and DynamoDB bills every write of an item by its size (1 write unit per KB):
 * a busy key's or team shard's month holds one receipt per request in flight. Its name is `R`, the expiry
 * (epoch seconds) in 7 base-36 digits, then the request id — an API Gateway UUID as its 16 bytes in base64url (22
 * characters), any other id as `~` and the id — and its value the number it reserved (micro-USD, or tokens
 * on a rate minute): about 34 bytes. Receipts written before this format, `r_<requestId>` =
 * `{ x: expiry (epoch ms), m: micro-USD, t: tokens }` (about 61 bytes), are still read and closed.
 */
import type { UpdateCommandInput } from '@aws-sdk/lib-dynamodb';

/** One counter item a reservation was made on. */
export interface Counter {
  pk: string;
  sk: string;
  /** Micro-USD reserved on it. */
  micros: number;
  /** Tokens reserved on it (rate items). */
  tokens: number;
  /** Whose counter: settlement bills money to the month counters and tokens to the rate minute. */
  kind: 'key' | 'team' | 'installation' | 'rate';
  /** The attribute name of the reservation's receipt on the item ({@link receiptName}). */
  receipt: string;
}

/** What a reservation holds on its counter, and its receipt's value: tokens on a rate minute, else micro-USD. */
export const reservedOn = (counter: Pick<Counter, 'kind' | 'micros' | 'tokens'>): number =>
  counter.kind === 'rate' ? counter.tokens : counter.micros;

/** The identity of a counter item within its table. */
export const counterId = (counter: Pick<Counter, 'pk' | 'sk'>): string => `${counter.pk}|${counter.sk}`;

/** About what a counter item weighs without receipts, and what each receipt adds, in bytes. */
const ITEM_BYTES = 150;
const RECEIPT_BYTES = 34;

/** What one write of a counter costs with `inFlight` receipts on it: DynamoDB bills 1 unit per KB. */
export const writeUnitsWith = (inFlight: number): number =>
  Math.ceil((ITEM_BYTES + RECEIPT_BYTES * inFlight) / 1024);

/** A reservation still held on a counter item, as read back from it. */
export interface Receipt {
  /** Its attribute name on the item. */
  name: string;
  requestId: string;
  expiresAt: number;
  micros: number;
  tokens: number;
}

const PREFIX = 'R';
/** Counter attributes are camelCase, so no other attribute starts with either prefix. */
const LEGACY_PREFIX = 'r_';
const EXPIRY_DIGITS = 7;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const RAW = '~';

/** The request id in a receipt's name: a UUID as its bytes in base64url, anything else as it is. */
function encodeId(requestId: string): string {
  return UUID.test(requestId)
    ? Buffer.from(requestId.replaceAll('-', ''), 'hex').toString('base64url')
    : `${RAW}${requestId}`;
}

function decodeId(encoded: string): string {
  if (encoded.startsWith(RAW)) return encoded.slice(RAW.length);
  const hex = Buffer.from(encoded, 'base64url').toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * The attribute name of a request's receipt, which also carries its expiry in whole seconds (rounded down:
 * within the reservation TTL's minute of margin over the longest request).
 */
export function receiptName(requestId: string, expiresAt: number): string {
  const seconds = Math.floor(expiresAt / 1000)
    .toString(36)
    .padStart(EXPIRY_DIGITS, '0');
  return `${PREFIX}${seconds}${encodeId(requestId)}`;
}

/** The receipt an attribute is, or undefined when it is none. */
function parseReceipt(name: string, value: unknown, kind: Counter['kind']): Receipt | undefined {
  if (name.startsWith(LEGACY_PREFIX)) {
    if (typeof value !== 'object' || value === null) return undefined;
    const r = value as { x?: unknown; m?: unknown; t?: unknown };
    return {
      name,
      requestId: name.slice(LEGACY_PREFIX.length),
      expiresAt: Number(r.x ?? 0),
      micros: Number(r.m ?? 0),
      tokens: Number(r.t ?? 0),
    };
  }
  if (!name.startsWith(PREFIX) || name.length <= PREFIX.length + EXPIRY_DIGITS) return undefined;
  const seconds = Number.parseInt(name.slice(PREFIX.length, PREFIX.length + EXPIRY_DIGITS), 36);
  const reserved = Number(value ?? 0);
  return {
    name,
    requestId: decodeId(name.slice(PREFIX.length + EXPIRY_DIGITS)),
    expiresAt: seconds * 1000,
    micros: kind === 'rate' ? 0 : reserved,
    tokens: kind === 'rate' ? reserved : 0,
  };
}

/** The receipts an item of this kind of counter holds. */
export function receiptsOf(item: Record<string, unknown> | undefined, kind: Counter['kind']): Receipt[] {
  const out: Receipt[] = [];
  for (const [name, value] of Object.entries(item ?? {})) {
    const receipt = parseReceipt(name, value, kind);
    if (receipt !== undefined) out.push(receipt);
  }
  return out;
}

/** What an admission adds to a money counter. */
export interface ReserveSpec {
  table: string;
  counter: Counter;
  /** Admit only while spent + reserved + estimate ≤ cap; none for a counter without a limit. */
  cap: number | undefined;
  /** Extra `ADD`/`SET` clauses and values (request counts, month label, rate conditions). */
  add?: string[];
  set?: string[];
  condition?: string[];
  values?: Record<string, unknown>;
  names?: Record<string, string>;
}

/**
 * The conditional update that reserves on a counter and files the receipt, only while the receipt is not
 * there yet (see {@link isOwnReceipt}).
 */
export function reserveUpdate(spec: ReserveSpec): UpdateCommandInput {
  const { counter } = spec;
  // Never twice: an attempt the SDK retries after its answer was lost finds its own receipt and stops.
  const conditions = ['attribute_not_exists(#r)', ...(spec.condition ?? [])];
  const values: Record<string, unknown> = {
    ':m': counter.micros,
    ':t': counter.tokens,
    ':receipt': reservedOn(counter),
    ...spec.values,
  };
  if (spec.cap !== undefined) {
    conditions.push('(attribute_not_exists(spr) OR spr <= :cap)');
    values[':cap'] = spec.cap - counter.micros;
  }
  return {
    TableName: spec.table,
    Key: { pk: counter.pk, sk: counter.sk },
    UpdateExpression: `ADD ${['spr :m', 'reservedMicros :m', 'tok :t', ...(spec.add ?? [])].join(', ')} SET ${['#r = :receipt', ...(spec.set ?? [])].join(', ')}`,
    ConditionExpression: conditions.join(' AND '),
    ExpressionAttributeNames: { '#r': counter.receipt, ...spec.names },
    ExpressionAttributeValues: values,
    ReturnValues: 'ALL_NEW',
    // A refusal can then say how much was left.
    ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
  };
}

/**
 * Whether a reservation refused by its condition was refused because it had already been made: an earlier
 * attempt of the same update applied and its answer was lost (a reset connection, a timeout), and the SDK
 * retried it. `held` is the item as the refusal returned it (`ReturnValuesOnConditionCheckFailure`, in
 * DynamoDB's own encoding). The receipt must hold this reservation's amount too: a receipt of the same
 * name with another amount is an earlier admission of the request (same second, other estimate) whose
 * release failed, and taking it for this one would release the wrong amount.
 */
export function isOwnReceipt(counter: Counter, held: Record<string, { N?: string }> | undefined): boolean {
  return held?.[counter.receipt]?.N === String(reservedOn(counter));
}

/**
 * The update that ends a reservation: `chargedMicros` becomes spend, the reservation is released and the
 * receipt removed — only while the receipt is there. Settlement charges the actual cost, a release 0,
 * reconciliation the estimate.
 */
export function closeUpdate(
  table: string,
  counter: Counter,
  charged: { micros: number; tokens: number; requests: number },
): UpdateCommandInput {
  return {
    TableName: table,
    Key: { pk: counter.pk, sk: counter.sk },
    UpdateExpression:
      'ADD spentMicros :spent, reservedMicros :release, spr :delta, tok :tokDelta, requests :n REMOVE #r',
    ConditionExpression: 'attribute_exists(#r)',
    ExpressionAttributeNames: { '#r': counter.receipt },
    ExpressionAttributeValues: {
      ':spent': charged.micros,
      ':release': -counter.micros,
      ':delta': charged.micros - counter.micros,
      ':tokDelta': charged.tokens - counter.tokens,
      ':n': charged.requests,
    },
  };
}
