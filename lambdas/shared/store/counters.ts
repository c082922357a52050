/**
 * The usage table's reservation counters and the receipts that make every change to them idempotent.
 *
 * A counter item (a key's, a team shard's or the installation shard's month; a key's rate minute) keeps
 * `spr` = spent + reserved, which its admission condition compares with `limit − estimate`, and one
 * attribute per reservation it holds, `r_<requestId>` = `{ x: expiry (epoch ms), m: micro-USD, t: tokens }`.
 * Admission adds the receipt with the reservation; settlement, release and reconciliation each remove it
 * under the condition that it still exists, so whichever comes first applies and a retry or a late
 * duplicate changes nothing.
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
}

/** A reservation still held on a counter item, as read back from it. */
export interface Receipt {
  requestId: string;
  expiresAt: number;
  micros: number;
  tokens: number;
}

const RECEIPT_PREFIX = 'r_';

/** The attribute name of a request's receipt. */
export const receiptName = (requestId: string): string => `${RECEIPT_PREFIX}${requestId}`;

/** The receipts an item holds. */
export function receiptsOf(item: Record<string, unknown> | undefined): Receipt[] {
  const out: Receipt[] = [];
  for (const [name, value] of Object.entries(item ?? {})) {
    if (!name.startsWith(RECEIPT_PREFIX) || typeof value !== 'object' || value === null) continue;
    const r = value as { x?: unknown; m?: unknown; t?: unknown };
    out.push({
      requestId: name.slice(RECEIPT_PREFIX.length),
      expiresAt: Number(r.x ?? 0),
      micros: Number(r.m ?? 0),
      tokens: Number(r.t ?? 0),
    });
  }
  return out;
}

/** What an admission adds to a money counter. */
export interface ReserveSpec {
  table: string;
  counter: Counter;
  requestId: string;
  expiresAt: number;
  /** Admit only while spent + reserved + estimate ≤ cap; none for a counter without a limit. */
  cap: number | undefined;
  /** Extra `ADD`/`SET` clauses and values (request counts, month label, rate conditions). */
  add?: string[];
  set?: string[];
  condition?: string[];
  values?: Record<string, unknown>;
  names?: Record<string, string>;
}

/** The conditional update that reserves on a counter and files the receipt. */
export function reserveUpdate(spec: ReserveSpec): UpdateCommandInput {
  const { counter } = spec;
  const conditions = [...(spec.condition ?? [])];
  const values: Record<string, unknown> = {
    ':m': counter.micros,
    ':t': counter.tokens,
    ':receipt': { x: spec.expiresAt, m: counter.micros, t: counter.tokens },
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
    ...(conditions.length === 0 ? {} : { ConditionExpression: conditions.join(' AND ') }),
    ExpressionAttributeNames: { '#r': receiptName(spec.requestId), ...spec.names },
    ExpressionAttributeValues: values,
    ReturnValues: 'ALL_NEW',
    // A refusal can then say how much was left.
    ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
  };
}

/**
 * The update that ends a reservation: `chargedMicros` becomes spend, the reservation is released and the
 * receipt removed — only while the receipt is there. Settlement charges the actual cost, a release 0,
 * reconciliation the estimate.
 */
export function closeUpdate(
  table: string,
  counter: Counter,
  requestId: string,
  charged: { micros: number; tokens: number; requests: number },
): UpdateCommandInput {
  return {
    TableName: table,
    Key: { pk: counter.pk, sk: counter.sk },
    UpdateExpression:
      'ADD spentMicros :spent, reservedMicros :release, spr :delta, tok :tokDelta, requests :n REMOVE #r',
    ConditionExpression: 'attribute_exists(#r)',
    ExpressionAttributeNames: { '#r': receiptName(requestId) },
    ExpressionAttributeValues: {
      ':spent': charged.micros,
      ':release': -counter.micros,
      ':delta': charged.micros - counter.micros,
      ':tokDelta': charged.tokens - counter.tokens,
      ':n': charged.requests,
    },
  };
}
