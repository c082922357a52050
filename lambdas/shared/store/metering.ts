/**
 * Spend and rate limits, enforced with atomic conditional writes.
 *
 * Admission is one DynamoDB round trip, a TransactWriteItems that together: re-checks the key (hash or grace
 * hash, status, expiry) without writing it, and counts the request in the usage table;
 * checks that the key's team is active; reserves the estimated cost against the key's monthly limit and
 * the team's budget; and counts the request and reserves its estimated tokens in the key's current minute.
 * DynamoDB conditions allow no arithmetic, so each counter item keeps `spr` = spent + reserved and the
 * condition compares it with `limit - estimate`, computed here. Settlement moves the reservation to actual
 * spend. Money is integer micro-USD (1e-6 USD); a request is billed `ceil(tokens × USD-per-MTok)` micros.
 */
import {
  type DynamoDBDocumentClient,
  GetCommand,
  TransactWriteCommand,
  type TransactWriteCommandInput,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { GatewayError, InvalidApiKeyError } from '../errors.ts';
import { cancellationCodes, isConditionalCheckFailed } from './db.ts';

/** Limits as the authorizer resolved them for this key (and its team). */
export interface EffectiveLimits {
  monthlyLimitMicros?: number;
  rpm?: number;
  tpm?: number;
  teamBudgetMicros?: number;
}

/** What admission needs to know about a request. */
export interface AdmissionRequest {
  keyId: string;
  hash: string;
  teamId?: string | undefined;
  limits: EffectiveLimits;
  estimateMicros: number;
  estimateTokens: number;
  at: Date;
}

/** An admitted request's reservations, to settle afterwards. */
export interface Admission {
  keyId: string;
  teamId: string | undefined;
  month: string;
  minute: number;
  reservedKeyMicros: number;
  reservedTeamMicros: number;
  reservedTokens: number;
}

/** A month's spend of a key or team, in micro-USD. */
export interface MonthSpend {
  month: string;
  spentMicros: number;
  reservedMicros: number;
}

/** 402 for a key's monthly limit. */
export class KeyQuotaExceededError extends GatewayError {
  constructor() {
    super('api_key_quota_exceeded', "This key's monthly spend limit is reached.");
  }
}

/** 402 for a team's monthly budget. */
export class BillingShortfallError extends GatewayError {
  constructor() {
    super('billing_shortfall', "The team's monthly budget is reached.");
  }
}

/** 429 with `Retry-After` and `x-ratelimit-*` headers. */
export class RateLimitedError extends GatewayError {
  constructor(limit: number, resetSeconds: number) {
    super('rate_limited', 'Rate limit reached for this key; retry after the reset.', {
      'retry-after': String(resetSeconds),
      'x-ratelimit-limit': String(limit),
      'x-ratelimit-remaining': '0',
      'x-ratelimit-reset': String(resetSeconds),
    });
  }
}

const monthOf = (at: Date): string => at.toISOString().slice(0, 7);
const MAX_CONFLICT_RETRIES = 25;

function isTransactionConflict(err: unknown): boolean {
  const codes = cancellationCodes(err) ?? [];
  return codes.includes('TransactionConflict') && !codes.includes('ConditionalCheckFailed');
}
const minuteOf = (at: Date): number => Math.floor(at.getTime() / 60_000);

type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

/** Usage-table counters for limits, and the admission transaction. */
export class Meter {
  private readonly db: DynamoDBDocumentClient;
  private readonly keysTable: string;
  private readonly teamsTable: string;
  private readonly usageTable: string;

  constructor(db: DynamoDBDocumentClient, tables: { keys: string; teams: string; usage: string }) {
    this.db = db;
    this.keysTable = tables.keys;
    this.teamsTable = tables.teams;
    this.usageTable = tables.usage;
  }

  /**
   * Admits one request or refuses it: 401 (key or team no longer valid), 402 (key limit or team budget),
   * 429 (RPM/TPM). Never admits more than the limits allow, however many requests race.
   */
  async admit(request: AdmissionRequest): Promise<Admission> {
    const { limits, at } = request;
    const month = monthOf(at);
    const minute = minuteOf(at);
    const now = at.toISOString();
    const resetSeconds = Math.max(1, (minute + 1) * 60 - Math.floor(at.getTime() / 1000));
    const rateLimit = limits.rpm ?? limits.tpm ?? 0;
    const failures: Array<() => GatewayError> = [];
    const items: TransactItem[] = [];

    // The key is only checked, never written: its table's stream then carries administrative changes alone.
    items.push({
      ConditionCheck: {
        TableName: this.keysTable,
        Key: { keyId: request.keyId },
        ConditionExpression:
          '(keyHash = :hash OR (previousKeyHash = :hash AND previousValidUntil > :now)) AND #status = :active AND (attribute_not_exists(expiresAt) OR expiresAt > :now)',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':now': now, ':hash': request.hash, ':active': 'active' },
      },
    });
    failures.push(() => new InvalidApiKeyError());
    items.push({
      Update: {
        TableName: this.usageTable,
        Key: { pk: `key#${request.keyId}`, sk: 'stats' },
        UpdateExpression: 'ADD requests :one SET lastUsedAt = :now',
        ExpressionAttributeValues: { ':one': 1, ':now': now },
      },
    });
    failures.push(() => new InvalidApiKeyError());

    if (request.teamId !== undefined) {
      items.push({
        ConditionCheck: {
          TableName: this.teamsTable,
          Key: { teamId: request.teamId },
          ConditionExpression: '#status = :active',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':active': 'active' },
        },
      });
      failures.push(() => new InvalidApiKeyError());
    }

    const reserve = (pk: string, limit: number | undefined, error: () => GatewayError): number => {
      if (limit === undefined) return 0;
      const cap = limit - request.estimateMicros;
      if (cap < 0) throw error();
      items.push({
        Update: {
          TableName: this.usageTable,
          Key: { pk, sk: `month#${month}` },
          UpdateExpression: 'ADD spr :est, reservedMicros :est SET #month = :month',
          ConditionExpression: 'attribute_not_exists(spr) OR spr <= :cap',
          ExpressionAttributeNames: { '#month': 'month' },
          ExpressionAttributeValues: { ':est': request.estimateMicros, ':cap': cap, ':month': month },
        },
      });
      failures.push(error);
      return request.estimateMicros;
    };
    const reservedKeyMicros = reserve(
      `key#${request.keyId}`,
      limits.monthlyLimitMicros,
      () => new KeyQuotaExceededError(),
    );
    const reservedTeamMicros =
      request.teamId === undefined
        ? 0
        : reserve(`team#${request.teamId}`, limits.teamBudgetMicros, () => new BillingShortfallError());

    let reservedTokens = 0;
    if (limits.rpm !== undefined || limits.tpm !== undefined) {
      const conditions: string[] = [];
      const values: Record<string, unknown> = { ':one': 1, ':tok': 0, ':ttl': (minute + 2) * 60 };
      if (limits.rpm !== undefined) {
        conditions.push('(attribute_not_exists(n) OR n < :rpm)');
        values[':rpm'] = limits.rpm;
      }
      if (limits.tpm !== undefined) {
        const cap = limits.tpm - request.estimateTokens;
        if (cap < 0) throw new RateLimitedError(limits.tpm, resetSeconds);
        conditions.push('(attribute_not_exists(tok) OR tok <= :tpmCap)');
        values[':tpmCap'] = cap;
        values[':tok'] = request.estimateTokens;
        reservedTokens = request.estimateTokens;
      }
      items.push({
        Update: {
          TableName: this.usageTable,
          Key: { pk: `rate#${request.keyId}`, sk: `minute#${minute}` },
          UpdateExpression: 'ADD n :one, tok :tok SET expiresAt = :ttl',
          ConditionExpression: conditions.join(' AND '),
          ExpressionAttributeValues: values,
        },
      });
      failures.push(() => new RateLimitedError(rateLimit, resetSeconds));
    }

    for (let attempt = 1; ; attempt++) {
      try {
        await this.db.send(new TransactWriteCommand({ TransactItems: items }));
        break;
      } catch (err) {
        // Concurrent transactions on one key cancel each other instead of queueing; a cancelled
        // transaction changed nothing, so it is safe to try again after a jittered pause.
        if (isTransactionConflict(err) && attempt < MAX_CONFLICT_RETRIES) {
          await new Promise((resolve) => setTimeout(resolve, Math.random() * 10 * attempt));
          continue;
        }
        throw this.refusal(err, failures);
      }
    }
    return {
      keyId: request.keyId,
      teamId: request.teamId,
      month,
      minute,
      reservedKeyMicros,
      reservedTeamMicros,
      reservedTokens,
    };
  }

  /**
   * Replaces the reservations with what the request actually cost (0 when it failed). Spend is recorded
   * for every key and team, limited or not, so `GET /v1/key` can show it.
   */
  async settle(admission: Admission, actualMicros: number, actualTokens: number): Promise<void> {
    const writes: Array<Promise<unknown>> = [];
    const month = (pk: string, reserved: number): Promise<unknown> =>
      this.db.send(
        new UpdateCommand({
          TableName: this.usageTable,
          Key: { pk, sk: `month#${admission.month}` },
          UpdateExpression:
            'ADD spentMicros :actual, reservedMicros :release, spr :delta SET #month = :month',
          ExpressionAttributeNames: { '#month': 'month' },
          ExpressionAttributeValues: {
            ':actual': actualMicros,
            ':release': -reserved,
            ':delta': actualMicros - reserved,
            ':month': admission.month,
          },
        }),
      );
    writes.push(month(`key#${admission.keyId}`, admission.reservedKeyMicros));
    if (admission.teamId !== undefined)
      writes.push(month(`team#${admission.teamId}`, admission.reservedTeamMicros));
    if (admission.reservedTokens > 0 || actualTokens > 0) {
      writes.push(
        this.db.send(
          new UpdateCommand({
            TableName: this.usageTable,
            Key: { pk: `rate#${admission.keyId}`, sk: `minute#${admission.minute}` },
            UpdateExpression: 'ADD tok :delta SET expiresAt = if_not_exists(expiresAt, :ttl)',
            ExpressionAttributeValues: {
              ':delta': actualTokens - admission.reservedTokens,
              ':ttl': (admission.minute + 2) * 60,
            },
          }),
        ),
      );
    }
    await Promise.all(writes);
  }

  /** A key's or team's spend for a month (`subject` is `key#ID` or `team#ID`). */
  async monthSpend(subject: string, at: Date = new Date()): Promise<MonthSpend> {
    const month = monthOf(at);
    const out = await this.db.send(
      new GetCommand({
        TableName: this.usageTable,
        Key: { pk: subject, sk: `month#${month}` },
        ConsistentRead: true,
      }),
    );
    return {
      month,
      spentMicros: Number(out.Item?.spentMicros ?? 0),
      reservedMicros: Number(out.Item?.reservedMicros ?? 0),
    };
  }

  /** All requests a key made, and when it was last used. */
  async keyStats(keyId: string): Promise<{ requests: number; lastUsedAt: string | undefined }> {
    const out = await this.db.send(
      new GetCommand({ TableName: this.usageTable, Key: { pk: `key#${keyId}`, sk: 'stats' } }),
    );
    return {
      requests: Number(out.Item?.requests ?? 0),
      lastUsedAt: out.Item?.lastUsedAt === undefined ? undefined : String(out.Item.lastUsedAt),
    };
  }

  /** Requests and tokens counted in a key's current minute. */
  async minuteUsage(
    keyId: string,
    at: Date = new Date(),
  ): Promise<{ requests: number; tokens: number; resetSeconds: number }> {
    const minute = minuteOf(at);
    const out = await this.db.send(
      new GetCommand({
        TableName: this.usageTable,
        Key: { pk: `rate#${keyId}`, sk: `minute#${minute}` },
        ConsistentRead: true,
      }),
    );
    return {
      requests: Number(out.Item?.n ?? 0),
      tokens: Number(out.Item?.tok ?? 0),
      resetSeconds: (minute + 1) * 60 - Math.floor(at.getTime() / 1000),
    };
  }

  private refusal(err: unknown, failures: Array<() => GatewayError>): unknown {
    if (isConditionalCheckFailed(err)) return (failures[0] ?? (() => new InvalidApiKeyError()))();
    const index = cancellationCodes(err)?.indexOf('ConditionalCheckFailed') ?? -1;
    const failure = failures[index];
    if (failure !== undefined) return failure();
    return err;
  }
}
