/**
 * Spend and rate limits, enforced with conditional writes that never conflict.
 *
 * Admission is one round trip of parallel, independent requests: the caller's check (the key's hash,
 * status and expiry and its team's status, read consistently), and one conditional `UpdateItem` per
 * counter — the key's month, one shard of its team's month, one shard of the installation's month (with a
 * budget), the key's rate minute — each reserving the estimate and filing a receipt (see `counters.ts`).
 * A refusal or failure of any of them releases the others, so nothing stays reserved for a refused request.
 * There is no transaction: DynamoDB cancels concurrent transactions that touch one item, while plain
 * updates of one item simply queue, so a busy key or team costs no retries.
 *
 * Settlement replaces each reservation with what the request actually cost, retried with backoff. A
 * reservation whose settlement never came (the instance died, the database was down past the retries)
 * expires after `reservationTtlMs` and is then billed at its estimate by the next admission that touches
 * its counter, or by {@link Meter.sweep}. Money is integer micro-USD; a request is billed
 * `ceil(tokens × USD-per-MTok)` micros.
 *
 * Over 300 lines because admission, settlement and the sweep are one protocol over the same counter items
 * and receipts; it is the store's largest module and the first to split (admission / settlement) next.
 */
import type { UpdateCommandInput } from '@aws-sdk/lib-dynamodb';
import { GatewayError, StorageUnavailableError } from '../errors.ts';
import { logger } from '../log.ts';
import {
  type Counter,
  closeUpdate,
  counterId,
  isOwnReceipt,
  type Receipt,
  type ReserveSpec,
  receiptName,
  receiptsOf,
  reserveUpdate,
  writeUnitsWith,
} from './counters.ts';
import {
  consistentBatchGet,
  type DocumentDb,
  isConditionalCheckFailed,
  queryPages,
  scanPages,
} from './db.ts';
import { type MonthBegun, monthOf, type ShardSpec, shardKey, shardsFor, sliceOf } from './shards.ts';
import { type Placed, placeOnSplit, type SplitContext } from './split-placement.ts';

/** Limits as the authorizer resolved them for this key (and its team). */
export interface EffectiveLimits {
  monthlyLimitMicros?: number;
  /** How the key's month is split (1 counter when absent). */
  keyShards?: ShardSpec;
  rpm?: number;
  tpm?: number;
  teamBudgetMicros?: number;
  /** How the team's month is split (1 counter when absent). */
  teamShards?: ShardSpec;
}

/** The installation's budget, when one is set. */
export interface InstallationBudget {
  budgetMicros: number;
  shards?: ShardSpec | undefined;
}

/** What admission needs to know about a request. */
export interface AdmissionRequest {
  requestId: string;
  keyId: string;
  teamId?: string | undefined;
  limits: EffectiveLimits;
  installation?: InstallationBudget | undefined;
  estimateMicros: number;
  estimateTokens: number;
  at: Date;
}

/** An admitted request's reservations, to settle afterwards. */
export interface Admission {
  requestId: string;
  keyId: string;
  teamId: string | undefined;
  month: string;
  minute: number;
  counters: Counter[];
}

/** A month's spend of a key, team or the installation, in micro-USD. */
export interface MonthSpend {
  month: string;
  spentMicros: number;
  reservedMicros: number;
}

/** Tuning of reservations and settlement. */
export interface MeterOptions {
  /** How long a reservation may stay unsettled: longer than any request can live (15 min). */
  reservationTtlMs?: number;
  /** Attempts of each settlement write before it is left to reconciliation. */
  settleAttempts?: number;
  /** First pause between attempts, doubled each time. */
  retryBaseMs?: number;
  random?: () => number;
  /**
   * How long after a split change an admission may still act on the split before it: the authorizer's
   * and the proxy's caches of a key's limits, and the settings' check interval. A month that begins within
   * it of now counts as begun ({@link Meter.monthBegun}). Default 0.
   */
  staleMs?: number;
}

const usd = (micros: number): string => `$${Number((micros / 1_000_000).toFixed(6))}`;

/**
 * 402 for a key's monthly limit: used up, or too little of it left (or in all of it, `whole`) for what this
 * request reserves — its input and its `max_tokens` at the model's price — which a lower cap may fit.
 */
export class KeyQuotaExceededError extends GatewayError {
  constructor(room?: QuotaRoom) {
    super('api_key_quota_exceeded', quotaMessage(room));
  }
}

/** What a refused request would reserve and what the key had left (in all of it: `whole`; split: `sharded`). */
interface QuotaRoom {
  reserveMicros: number;
  leftMicros: number;
  whole?: boolean;
  sharded?: boolean;
}

function quotaMessage(room?: QuotaRoom): string {
  // A split key's shards each admit within their slice: what is left is spread over them.
  if (room?.sharded === true)
    return `This key's monthly spend limit is reached, or no shard of it has ${usd(room.reserveMicros)} left for this request (its input and max_tokens at the model's price); a lower max_tokens may fit.`;
  if (room === undefined || room.leftMicros <= 0) return "This key's monthly spend limit is reached.";
  return `This request reserves ${usd(room.reserveMicros)} (its input and max_tokens at the model's price) but ${room.whole === true ? `this key's whole monthly limit is ${usd(room.leftMicros)}` : `${usd(room.leftMicros)} of this key's monthly limit is left`}; a lower max_tokens would fit.`;
}

/** 402 for a team's or the installation's monthly budget. */
export class BillingShortfallError extends GatewayError {
  constructor(whose: 'team' | 'installation' = 'team') {
    super(
      'billing_shortfall',
      whose === 'team' ? "The team's monthly budget is reached." : "The gateway's monthly budget is reached.",
    );
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

/** Settlement writes that still failed after their retries; the reservations are left to reconciliation. */
export class SettlementError extends Error {
  constructor(requestId: string, cause: unknown) {
    super(
      `settlement of ${requestId} failed; its reservations will be billed at the estimate when they expire`,
      {
        cause,
      },
    );
    this.name = 'SettlementError';
  }
}

const minuteOf = (at: Date): number => Math.floor(at.getTime() / 60_000);

/** Requests in flight on one counter from which each write of it costs 2 write units or more (26). */
export const BUSY_COUNTER_IN_FLIGHT = (() => {
  let inFlight = 0;
  while (writeUnitsWith(inFlight) < 2) inFlight += 1;
  return inFlight;
})();

/** What splits a busy counter, by its kind and its subject's id (from next month). */
const SPLIT_ADVICE: Readonly<Record<Counter['kind'], (id: string) => string>> = {
  key: (id) => `tollgate keys shards ${id} --count N (from next month)`,
  team: (id) => `tollgate teams shards ${id} --count N (from next month)`,
  installation: () => 'tollgate settings --budget-shards N (from next month)',
  // A key's rate minute is split with its month.
  rate: (id) => `tollgate keys shards ${id} --count N (from next month)`,
};

/** The longest a request lives (API Gateway's and the proxy Lambda's 15 minutes), plus a margin. */
export const DEFAULT_RESERVATION_TTL_MS = 16 * 60_000;

/** A money counter an admission placed, with the receipts its item held afterwards. */
interface Held {
  counter: Counter;
  receipts: Receipt[];
}

/** Usage-table counters for limits: admission, settlement, reconciliation and spend reads. */
export class Meter {
  private readonly db: DocumentDb;
  private readonly table: string;
  private readonly ttlMs: number;
  private readonly attempts: number;
  private readonly retryBaseMs: number;
  private readonly random: () => number;
  private readonly staleMs: number;
  /** Counters this instance last warned about as busy, and when (see {@link warnIfBusy}). */
  private readonly busyWarned = new Map<string, number>();
  /** What reserving on split counters needs, with the shards this instance saw full. */
  private readonly split: SplitContext;

  constructor(db: DocumentDb, usageTable: string, options: MeterOptions = {}) {
    this.db = db;
    this.table = usageTable;
    this.ttlMs = options.reservationTtlMs ?? DEFAULT_RESERVATION_TTL_MS;
    this.attempts = options.settleAttempts ?? 5;
    this.retryBaseMs = options.retryBaseMs ?? 50;
    this.random = options.random ?? Math.random;
    this.staleMs = options.staleMs ?? 0;
    this.split = {
      db,
      table: usageTable,
      random: this.random,
      fullShards: new Map(),
      place: (spec, full) => this.place(spec, () => full),
    };
  }

  /**
   * Admits one request or refuses it: the caller's own check's error (e.g. 401), 402 (key limit, team or
   * installation budget), 429 (RPM/TPM). Never admits more than the limits allow, however many requests race.
   * @param check runs in parallel with the reservations; when it throws, they are released.
   */
  async admit(
    request: AdmissionRequest,
    check: () => Promise<unknown> = async () => undefined,
  ): Promise<Admission> {
    const { limits, at } = request;
    const month = monthOf(at);
    const minute = minuteOf(at);
    const resetSeconds = Math.max(1, (minute + 1) * 60 - Math.floor(at.getTime() / 1000));
    const expiresAt = at.getTime() + this.ttlMs;
    const est = request.estimateMicros;
    // An estimate over a whole limit can never fit: refused without a write.
    if ((limits.monthlyLimitMicros ?? est) < est)
      throw new KeyQuotaExceededError({
        reserveMicros: est,
        leftMicros: limits.monthlyLimitMicros ?? 0,
        whole: true,
      });
    if (request.teamId !== undefined && (limits.teamBudgetMicros ?? est) < est)
      throw new BillingShortfallError('team');
    if ((request.installation?.budgetMicros ?? est) < est) throw new BillingShortfallError('installation');
    const base = { table: this.table };
    const receipt = receiptName(request.requestId, expiresAt);
    const money = (pk: string, kind: Counter['kind']): Counter => ({
      pk,
      sk: `month#${month}`,
      micros: est,
      tokens: 0,
      kind,
      receipt,
    });
    const monthSet = { set: ['#month = :month'], values: { ':month': month }, names: { '#month': 'month' } };
    const keyCounter = (pk: string) => ({
      ...base,
      counter: money(pk, 'key'),
      set: ['#month = :month', 'lastUsedAt = :now'],
      values: { ':month': month, ':now': at.toISOString() },
      names: { '#month': 'month' },
    });
    const keyShards = shardsFor(limits.keyShards, month);
    const attempts: Array<Promise<Placed | Placed[]>> = [
      keyShards === 1
        ? this.place(
            { ...keyCounter(`key#${request.keyId}`), cap: limits.monthlyLimitMicros },
            (spent) =>
              new KeyQuotaExceededError(
                spent === undefined || limits.monthlyLimitMicros === undefined
                  ? undefined
                  : { reserveMicros: est, leftMicros: limits.monthlyLimitMicros - spent },
              ),
          )
        : this.splitMonth({
            subject: `key#${request.keyId}`,
            estimate: est,
            budget: limits.monthlyLimitMicros,
            shards: keyShards,
            counter: keyCounter,
            refusal: () => new KeyQuotaExceededError({ reserveMicros: est, leftMicros: 0, sharded: true }),
          }),
    ];
    if (request.teamId !== undefined) {
      const teamId = request.teamId;
      attempts.push(
        this.splitMonth({
          subject: `team#${teamId}`,
          estimate: est,
          budget: limits.teamBudgetMicros,
          shards: shardsFor(limits.teamShards, month),
          counter: (pk) => ({ ...base, counter: money(pk, 'team'), ...monthSet }),
          refusal: () => new BillingShortfallError('team'),
        }),
      );
    }
    if (request.installation !== undefined) {
      attempts.push(
        this.splitMonth({
          subject: 'install',
          estimate: est,
          budget: request.installation.budgetMicros,
          shards: shardsFor(request.installation.shards, month),
          counter: (pk) => ({ ...base, counter: money(pk, 'installation'), ...monthSet }),
          refusal: () => new BillingShortfallError('installation'),
        }),
      );
    }
    if (limits.rpm !== undefined || limits.tpm !== undefined) {
      attempts.push(this.placeRate(request, { minute, resetSeconds, expiresAt, shards: keyShards }));
    }
    const [checked, ...placed] = await Promise.allSettled([check(), ...attempts]);
    const counters = placed.flatMap((p) => (p.status === 'fulfilled' ? [p.value].flat() : []));
    const failure = [checked, ...placed].find((p) => p.status === 'rejected');
    if (failure !== undefined) {
      await this.release(
        request.requestId,
        counters.map((c) => c.counter),
      );
      throw failure.reason;
    }
    // Each money counter's receipts, read once from the item its admission returned, for both uses.
    const held = counters
      .filter((p) => p.counter.kind !== 'rate' && p.item !== undefined)
      .map((p) => ({ counter: p.counter, receipts: receiptsOf(p.item, p.counter.kind) }));
    await this.reconcileStale(held, request);
    this.warnIfBusy(held, request.at.getTime());
    return {
      requestId: request.requestId,
      keyId: request.keyId,
      teamId: request.teamId,
      month,
      minute,
      counters: counters.map((c) => c.counter),
    };
  }

  /**
   * Replaces the reservations with what the request actually cost (0 when it failed). Spend is recorded
   * for every key and team, limited or not, so `GET /v1/key` can show it. Each write is retried; a
   * reservation already reconciled is left as it is.
   * @throws {SettlementError} when a write still fails after its retries.
   */
  async settle(admission: Admission, actualMicros: number, actualTokens: number): Promise<void> {
    const results = await Promise.allSettled(
      admission.counters.map((counter) =>
        this.retrying(() =>
          this.db.update(
            closeUpdate(this.table, counter, {
              micros: counter.kind === 'rate' ? 0 : actualMicros,
              tokens: counter.kind === 'rate' ? actualTokens : 0,
              requests: counter.kind === 'rate' ? 0 : 1,
            }),
          ),
        ),
      ),
    );
    const failed = results.find((r) => r.status === 'rejected');
    if (failed !== undefined) throw new SettlementError(admission.requestId, failed.reason);
  }

  /**
   * Bills every expired reservation in the usage table at its estimate: the sweep for counters no
   * admission touches any more. Returns how many it reconciled.
   */
  async sweep(at: Date = new Date()): Promise<number> {
    let count = 0;
    for await (const page of scanPages(this.db, {
      TableName: this.table,
      FilterExpression: 'begins_with(sk, :month)',
      ExpressionAttributeValues: { ':month': 'month#' },
      ConsistentRead: true,
    })) {
      for (const item of page.Items ?? []) {
        count += await this.reconcile(
          { pk: String(item.pk), sk: String(item.sk), kind: kindOf(String(item.pk)) },
          receiptsOf(item, kindOf(String(item.pk))).filter((r) => r.expiresAt <= at.getTime()),
        );
      }
    }
    return count;
  }

  /** A month's spend of `key#ID`, `team#ID` or `install`, summed over its `shards` counters. */
  async monthSpend(subject: string, at: Date = new Date(), shards = 1): Promise<MonthSpend> {
    const month = monthOf(at);
    const items = await this.shardItems(subject, `month#${month}`, shards);
    return {
      month,
      spentMicros: items.reduce((sum, item) => sum + Number(item.spentMicros ?? 0), 0),
      reservedMicros: items.reduce((sum, item) => sum + Number(item.reservedMicros ?? 0), 0),
    };
  }

  /**
   * Whether admissions have begun counting a month of `subject` on any of its `shards` (the most a month
   * may be split over), or may begin it on the split before a change: it starts within `staleMs` of now,
   * while cached limits still carry that split. A split change must not move such a month (`changeSplit`).
   */
  monthBegun(subject: string, shards: number): MonthBegun {
    return async (month) =>
      Date.now() + this.staleMs >= Date.parse(`${month}-01T00:00:00Z`) ||
      (await this.shardItems(subject, `month#${month}`, shards)).length > 0;
  }

  /**
   * All requests a key made (settled or reconciled), and when it was last used, over its `shards` month
   * counters (the most any month of it was split over).
   */
  async keyStats(keyId: string, shards = 1): Promise<{ requests: number; lastUsedAt: string | undefined }> {
    let requests = 0;
    let lastUsedAt: string | undefined;
    const counted = async (pk: string): Promise<void> => {
      for await (const page of queryPages(this.db, {
        TableName: this.table,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :month)',
        ExpressionAttributeValues: { ':pk': pk, ':month': 'month#' },
      })) {
        for (const item of page.Items ?? []) {
          requests += Number(item.requests ?? 0);
          const used = item.lastUsedAt === undefined ? undefined : String(item.lastUsedAt);
          if (used !== undefined && (lastUsedAt === undefined || used > lastUsedAt)) lastUsedAt = used;
        }
      }
    };
    await Promise.all(Array.from({ length: shards }, (_, i) => counted(shardKey(`key#${keyId}`, i))));
    return { requests, lastUsedAt };
  }

  /** Requests and tokens counted in a key's current minute, over its `shards` (a split key's month's). */
  async minuteUsage(
    keyId: string,
    at: Date = new Date(),
    shards = 1,
  ): Promise<{ requests: number; tokens: number; resetSeconds: number }> {
    const minute = minuteOf(at);
    const found = await this.shardItems(`rate#${keyId}`, `minute#${minute}`, shards);
    return {
      requests: found.reduce((sum, item) => sum + Number(item.n ?? 0), 0),
      tokens: found.reduce((sum, item) => sum + Number(item.tok ?? 0), 0),
      resetSeconds: (minute + 1) * 60 - Math.floor(at.getTime() / 1000),
    };
  }

  /**
   * The items of one counter (`sk`) that exist on `shards` of `subject`, read consistently: one `GetItem`,
   * or one `BatchGetItem`.
   */
  private async shardItems(
    subject: string,
    sk: string,
    shards: number,
  ): Promise<Array<Record<string, unknown>>> {
    const keys = Array.from({ length: shards }, (_, i) => ({ pk: shardKey(subject, i), sk }));
    if (keys.length === 1) {
      const out = await this.db.get({ TableName: this.table, Key: keys[0], ConsistentRead: true });
      return out.Item === undefined ? [] : [out.Item];
    }
    // Every shard or none: a shard left unprocessed would under-report.
    const found = await consistentBatchGet(
      this.db,
      keys.map((key) => ({ table: this.table, key })),
    );
    return found.filter((item) => item !== undefined);
  }

  /** One conditional reservation; a failed condition becomes `refusal`, told what the counter held. */
  private async place(spec: ReserveSpec, refusal: (spentAndReserved?: number) => Error): Promise<Placed> {
    try {
      const out = await this.db.update(reserveUpdate(spec));
      return { counter: spec.counter, item: out.Attributes };
    } catch (err) {
      if (!isConditionalCheckFailed(err)) throw err;
      // The item as it was (ReturnValuesOnConditionCheckFailure), in DynamoDB's own encoding.
      const item = (err as { Item?: Record<string, { N?: string }> }).Item;
      if (isOwnReceipt(spec.counter, item)) return { counter: spec.counter, item: undefined };
      // A receipt of this name with another amount: an earlier admission of the request left it (its
      // release failed); storage is in trouble, and that reservation is billed when it expires.
      if (item?.[spec.counter.receipt] !== undefined) throw new StorageUnavailableError();
      const held = item?.spr?.N;
      throw refusal(held === undefined ? undefined : Number(held));
    }
  }

  /** The plan of a split month: shard `i` admits within its slice of `budget` (none: never refuses). */
  private splitMonth(options: {
    subject: string;
    budget: number | undefined;
    shards: number;
    estimate: number;
    counter: (pk: string) => Omit<ReserveSpec, 'cap'>;
    refusal: () => Error;
  }): Promise<Placed> {
    const { budget, shards, estimate } = options;
    const slice = (index: number) => (budget === undefined ? undefined : sliceOf(budget, index, shards));
    return placeOnSplit(this.split, {
      subject: options.subject,
      shards,
      spec: (pk, index) => ({ ...options.counter(pk), cap: slice(index) }),
      fits: (index) => (slice(index) ?? estimate) >= estimate,
      ...(budget === undefined
        ? {}
        : {
            room: {
              attributes: ['spr'],
              has: (item, index) => (slice(index) ?? 0) - Number(item?.spr ?? 0) >= estimate,
            },
          }),
      refusal: options.refusal,
    });
  }

  /**
   * Counts the request in the key's minute and reserves its tokens, within the RPM and TPM. A split key's
   * minute is split as its month is, each shard within its slice of both.
   */
  private placeRate(
    request: AdmissionRequest,
    window: { minute: number; resetSeconds: number; expiresAt: number; shards: number },
  ): Promise<Placed> {
    const { rpm, tpm } = request.limits;
    const limit = rpm ?? tpm ?? 0;
    const refusal = () => new RateLimitedError(limit, window.resetSeconds);
    const tokens = tpm === undefined ? 0 : request.estimateTokens;
    if (tpm !== undefined && tpm < tokens) return Promise.reject(refusal());
    const { shards } = window;
    const caps = (index: number) => ({
      rpm: rpm === undefined ? undefined : sliceOf(rpm, index, shards),
      tpm: tpm === undefined ? undefined : sliceOf(tpm, index, shards),
    });
    const spec = (pk: string, index: number): ReserveSpec => {
      const cap = caps(index);
      const condition: string[] = [];
      const values: Record<string, unknown> = { ':one': 1, ':ttl': (window.minute + 2) * 60 };
      if (cap.rpm !== undefined) {
        condition.push('(attribute_not_exists(n) OR n < :rpm)');
        values[':rpm'] = cap.rpm;
      }
      if (cap.tpm !== undefined) {
        condition.push('(attribute_not_exists(tok) OR tok <= :tpmCap)');
        values[':tpmCap'] = cap.tpm - tokens;
      }
      return {
        table: this.table,
        counter: {
          pk,
          sk: `minute#${window.minute}`,
          micros: 0,
          tokens,
          kind: 'rate',
          receipt: receiptName(request.requestId, window.expiresAt),
        },
        cap: undefined,
        add: ['n :one'],
        set: ['expiresAt = :ttl'],
        condition,
        values,
      };
    };
    if (shards === 1) return this.place(spec(`rate#${request.keyId}`, 0), refusal);
    const within = (index: number, held: { n: number; tok: number }) => {
      const cap = caps(index);
      return (
        (cap.rpm === undefined || held.n < cap.rpm) && (cap.tpm === undefined || held.tok + tokens <= cap.tpm)
      );
    };
    return placeOnSplit(this.split, {
      subject: `rate#${request.keyId}`,
      shards,
      spec,
      fits: (index) => within(index, { n: 0, tok: 0 }),
      room: {
        attributes: ['n', 'tok'],
        has: (item, index) => within(index, { n: Number(item?.n ?? 0), tok: Number(item?.tok ?? 0) }),
      },
      refusal,
    });
  }

  /** Undoes the reservations of a refused request (retried; the receipts make it safe to repeat). */
  private async release(requestId: string, counters: Counter[]): Promise<void> {
    const results = await Promise.allSettled(
      counters.map((counter) =>
        this.retrying(() =>
          this.db.update(
            counter.kind === 'rate'
              ? releaseRate(this.table, counter)
              : closeUpdate(this.table, counter, { micros: 0, tokens: 0, requests: 0 }),
          ),
        ),
      ),
    );
    for (const result of results) {
      if (result.status === 'rejected')
        logger.error(
          'could not release a refused request’s reservation; it will be reconciled when it expires',
          {
            requestId,
            error: (result.reason as Error).name,
          },
        );
    }
  }

  /**
   * Says, at most once a minute per counter and instance, when a counter holds so many requests in flight
   * (each keeps its receipt on the item) that every write of it costs more than one write unit, and how to
   * split it: the operator's signal for `tollgate teams shards` (see the README's Admission at scale).
   */
  private warnIfBusy(held: Held[], now: number): void {
    for (const { counter, receipts } of held) {
      // Money counters only: a busy key fills its rate minute too, and its month counter's line says it once.
      const inFlight = receipts.length;
      if (inFlight < BUSY_COUNTER_IN_FLIGHT) continue;
      const id = counterId(counter);
      if ((this.busyWarned.get(id) ?? Number.NEGATIVE_INFINITY) > now - 60_000) continue;
      if (this.busyWarned.size >= 1000) this.busyWarned.clear();
      this.busyWarned.set(id, now);
      logger.warn('counter busy: each of its writes costs more than one write unit', {
        counter: counter.pk,
        period: counter.sk,
        // About: expired receipts awaiting reconciliation count too, and older receipts are larger.
        inFlight,
        writeUnitsPerWrite: writeUnitsWith(inFlight),
        split: SPLIT_ADVICE[counter.kind](counter.pk.split('#')[1] ?? ''),
      });
    }
  }

  /** Bills the expired receipts an admission saw on its counters (never its own). */
  private async reconcileStale(held: Held[], request: AdmissionRequest): Promise<void> {
    const now = request.at.getTime();
    await Promise.all(
      held.map(({ counter, receipts }) =>
        this.reconcile(
          counter,
          receipts.filter((r) => r.expiresAt <= now && r.name !== counter.receipt),
        ),
      ),
    );
  }

  /** Bills each expired reservation at its estimate; returns how many this call reconciled. */
  private async reconcile(
    counter: Pick<Counter, 'pk' | 'sk' | 'kind'>,
    receipts: Receipt[],
  ): Promise<number> {
    let count = 0;
    for (const receipt of receipts) {
      try {
        await this.db.update(
          closeUpdate(
            this.table,
            { ...counter, micros: receipt.micros, tokens: receipt.tokens, receipt: receipt.name },
            { micros: receipt.micros, tokens: receipt.tokens, requests: 1 },
          ),
        );
        count += 1;
        logger.warn('unsettled reservation billed at its estimate', {
          requestId: receipt.requestId,
          counter: counter.pk,
          micros: receipt.micros,
        });
      } catch (err) {
        // Settled or reconciled meanwhile, or the database failed: the next admission or sweep tries again.
        if (!isConditionalCheckFailed(err))
          logger.warn('could not reconcile a reservation', {
            requestId: receipt.requestId,
            error: (err as Error).name,
          });
      }
    }
    return count;
  }

  /** Runs a receipt-guarded write with backoff; a failed condition means it already happened. */
  private async retrying(write: () => Promise<unknown>): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await write();
        return;
      } catch (err) {
        if (isConditionalCheckFailed(err)) return;
        if (attempt >= this.attempts) throw err;
        await new Promise((r) =>
          setTimeout(r, this.retryBaseMs * 2 ** (attempt - 1) * (0.5 + this.random())),
        );
      }
    }
  }
}

/** A refused request's count and tokens taken back out of its rate minute. */
function releaseRate(table: string, counter: Counter): UpdateCommandInput {
  return {
    TableName: table,
    Key: { pk: counter.pk, sk: counter.sk },
    UpdateExpression: 'ADD n :minus, tok :tok REMOVE #r',
    ConditionExpression: 'attribute_exists(#r)',
    ExpressionAttributeNames: { '#r': counter.receipt },
    ExpressionAttributeValues: { ':minus': -1, ':tok': -counter.tokens },
  };
}

function kindOf(pk: string): Counter['kind'] {
  if (pk.startsWith('key#')) return 'key';
  if (pk.startsWith('team#')) return 'team';
  return 'installation';
}
