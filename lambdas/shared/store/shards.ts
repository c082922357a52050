/**
 * Sharded month counters. DynamoDB serialises the writes to one item (and one partition serves about 1,000
 * write units a second), so a budget shared by many callers — a busy team, the whole installation — is
 * split into `count` counters with partition keys of their own, each admitting within `budget / count`.
 * A request tries one shard picked at random and, only when that one is full, those of the others a
 * consistent read of them all shows room on.
 *
 * The split of a month never changes while the month runs: a new count applies from `from` (the next
 * month), so no month is ever admitted against two different splits (which could overshoot). "The next
 * month" is judged by the writer's clock, and also by the counters: a month that admissions have already
 * begun counting (the writer's clock behind, or its write landing just after midnight on the 1st) is a
 * running month, so the change applies from the month after it.
 */

/**
 * Shards of a budget at most: a month's spend is read from all its shards in one `BatchGetItem`, which
 * takes 100 keys. With receipts on each shard for every request in flight, 100 shards sustain about 2,100
 * requests/s of 30-second streams (see the README's Admission at scale).
 */
export const MAX_SHARDS = 100;

/** A shard count with the month it takes effect from; before that month, `previous` applies. */
export interface ShardSpec {
  count: number;
  previous: number;
  /** `YYYY-MM`. */
  from: string;
  /** Every count a month of a key was split over, for reads over all months (keys only). */
  ever?: number[];
}

/**
 * A split as stored on its item (`shards`, `previousShards`, `shardsFrom`, and on keys `everShards`, every
 * count any month used), or undefined when it was never split.
 */
export function shardSpecOf(item: Record<string, unknown>): ShardSpec | undefined {
  if (item.shards === undefined) return undefined;
  return {
    count: Number(item.shards),
    previous: Number(item.previousShards ?? 1),
    from: String(item.shardsFrom ?? ''),
    ...(item.everShards instanceof Set ? { ever: [...(item.everShards as Set<number>)].map(Number) } : {}),
  };
}

/** Whether admissions have begun counting `month` (`YYYY-MM`) on any shard of the subject. */
export type MonthBegun = (month: string) => Promise<boolean>;

/** One write of a split change: its `SET` clauses, the condition it is right under, its values. */
export interface SplitUpdate {
  set: string[];
  condition: string;
  values: Record<string, unknown>;
}

/**
 * Changes a split to `count` from the month after `at`. The month running at `at` stays on the split it
 * is admitted against, which becomes `previousShards`: `shards` when no change is pending, but the
 * pending change's own `previousShards` when one is (a second change in one month must not move this
 * month onto the first change's count). An update expression cannot compare months, so there are two
 * writes, each conditioned on its case; `write` runs them in turn until one is not `refused` (a
 * concurrent change can move the item between cases, hence a few rounds).
 * @param change.initial the split a never-split subject's running month is on: 1 for a counter that was
 *   written unsplit, `count` where no counter existed (the first split then applies at once).
 * @param change.begun asked about the month after `at`'s: when it has begun, it is the running month.
 */
export async function changeSplit<T>(
  change: { count: number; at: Date; initial: number; begun?: MonthBegun },
  write: (update: SplitUpdate) => Promise<T>,
  refused: (err: unknown) => boolean,
): Promise<T> {
  const count = validShardCount(change.count);
  const next = nextMonthOf(change.at);
  const running = (await change.begun?.(next)) === true ? next : monthOf(change.at);
  const values = { ':count': count, ':from': monthAfter(running), ':month': running };
  const updates: SplitUpdate[] = [
    {
      set: ['previousShards = if_not_exists(shards, :initial)', 'shards = :count', 'shardsFrom = :from'],
      condition: '(attribute_not_exists(shardsFrom) OR shardsFrom <= :month)',
      values: { ...values, ':initial': change.initial },
    },
    { set: ['shards = :count', 'shardsFrom = :from'], condition: 'shardsFrom > :month', values },
  ];
  let last: unknown;
  for (let round = 0; round < 3; round++) {
    for (const update of updates) {
      try {
        return await write(update);
      } catch (err) {
        if (!refused(err)) throw err;
        last = err;
      }
    }
  }
  throw last;
}

/** The number of shards a month is admitted against. */
export function shardsFor(spec: ShardSpec | undefined, month: string): number {
  if (spec === undefined) return 1;
  return month >= spec.from ? spec.count : spec.previous;
}

/** Throws unless `count` is a whole number of shards within the bound. */
export function validShardCount(count: number): number {
  if (!Number.isInteger(count) || count < 1 || count > MAX_SHARDS)
    throw new Error(`the shard count must be a whole number from 1 to ${MAX_SHARDS}`);
  return count;
}

/** `YYYY-MM` of a time (UTC). */
export const monthOf = (at: Date): string => at.toISOString().slice(0, 7);

/** `YYYY-MM` of the month after `month` (`YYYY-MM`). */
export const monthAfter = (month: string): string => nextMonthOf(new Date(`${month}-01T00:00:00Z`));

/** `YYYY-MM` of the month after the one `at` is in. */
export function nextMonthOf(at: Date): string {
  return monthOf(new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth() + 1, 1)));
}

/**
 * The slice of `budget` shard `index` of `count` admits within: an even split, the remainder going to the
 * first shards, so the slices add up to the budget exactly.
 */
export function sliceOf(budget: number, index: number, count: number): number {
  const base = Math.floor(budget / count);
  return base + (index < budget - base * count ? 1 : 0);
}

/** The partition key of shard `index` of a subject; shard 0 keeps the unsharded key. */
export function shardKey(subject: string, index: number): string {
  return index === 0 ? subject : `${subject}#${index}`;
}

/** Shard indexes starting at a random one, then the rest in order: spreads load, finds room when it exists. */
export function shardOrder(count: number, random: () => number = Math.random): number[] {
  const start = Math.floor(random() * count);
  return Array.from({ length: count }, (_, i) => (start + i) % count);
}

/** `items` in a random order (Fisher–Yates), for spreading requests over the shards that have room. */
export function shuffled<T>(items: readonly T[], random: () => number = Math.random): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

/** How many shards may hold a month's spend: readers sum that many. */
export function shardsToRead(spec: ShardSpec | undefined): number {
  return spec === undefined ? 1 : Math.max(spec.count, spec.previous);
}

/** How many shards may hold any month's counters: the most any month was split over (`everShards`). */
export function shardsEverUsed(spec: ShardSpec | undefined): number {
  return spec === undefined ? 1 : Math.max(shardsToRead(spec), ...(spec.ever ?? []));
}
