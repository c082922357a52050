/**
 * Reserving on a split counter: a month split over shards (a key's, a team's, the installation's) or a
 * split key's rate minute. Each shard admits within its own slice of the limit, and the slices add up to
 * the limit, so however requests spread, the shards together never admit more than one counter would.
 *
 * A request tries one shard picked at random; only when that one refuses does it read the others (one
 * consistent `BatchGetItem`) and try those the read shows room on, in random order, so near exhaustion a
 * refusal costs one write and one read instead of a write per shard. A shard that refused, or read full,
 * for a request this large is skipped by the instance for a second (room freed meanwhile waits out the
 * second: never an overshoot).
 */
import { type Counter, counterId, type ReserveSpec, reservedOn } from './counters.ts';
import { consistentBatchGet, type DocumentDb } from './db.ts';
import { shardKey, shardOrder, shuffled } from './shards.ts';

/** How long a shard that refused a request is skipped for requests as large, by the instance that saw it. */
const FULL_FOR_MS = 1000;
/** Full shards an instance remembers at most; past that it forgets them all (each is only a shortcut). */
const MAX_REMEMBERED = 10_000;

/** A counter placed by an admission, with the item as it stood afterwards. */
export interface Placed {
  counter: Counter;
  item: Record<string, unknown> | undefined;
}

/** One split counter to reserve on: its shards' writes, and how to tell a shard's room from its item. */
export interface SplitPlan {
  /** `key#ID`, `team#ID`, `install` or `rate#ID`; shard `i` is {@link shardKey}`(subject, i)`. */
  subject: string;
  shards: number;
  /** The reservation on shard `index` (its pk), with that shard's slice as its cap or conditions. */
  spec: (pk: string, index: number) => ReserveSpec;
  /** Whether shard `index`'s slice could hold the request at all, even empty. */
  fits: (index: number) => boolean;
  /** The attributes a read needs to judge a shard's room, and the judgement; none: no shard ever refuses. */
  room?: { attributes: string[]; has: (item: Record<string, unknown> | undefined, index: number) => boolean };
  refusal: () => Error;
}

/** What placing needs from the meter: its table, its one-shard write and its per-instance memory. */
export interface SplitContext {
  db: DocumentDb;
  table: string;
  random: () => number;
  /** Shards that recently refused, with the smallest reservation they refused (per instance). */
  fullShards: Map<string, { until: number; size: number }>;
  /** Reserves on one counter; throws `full` when its condition refuses. */
  place: (spec: ReserveSpec, full: Error) => Promise<Placed>;
}

/**
 * Reserves on one shard of `plan`: a random one first; when that one is full, the others that one read
 * shows room on.
 * @throws the plan's refusal when no shard has room.
 */
export async function placeOnSplit(ctx: SplitContext, plan: SplitPlan): Promise<Placed> {
  const { shards } = plan;
  const full = new Error('shard full');
  const now = Date.now();
  const specOf = (index: number) => plan.spec(shardKey(plan.subject, index), index);
  const remember = (spec: ReserveSpec) => {
    if (shards <= 1) return;
    // Bounded: a warm instance sees the shards of many months, keys and minutes.
    if (ctx.fullShards.size >= MAX_REMEMBERED) ctx.fullShards.clear();
    ctx.fullShards.set(counterId(spec.counter), { until: now + FULL_FOR_MS, size: reservedOn(spec.counter) });
  };
  const fits = (index: number): boolean => {
    if (!plan.fits(index)) return false;
    const spec = specOf(index);
    const known = ctx.fullShards.get(counterId(spec.counter));
    return !(
      shards > 1 &&
      known !== undefined &&
      known.until > now &&
      reservedOn(spec.counter) >= known.size
    );
  };
  const attempt = async (index: number): Promise<Placed | undefined> => {
    const spec = specOf(index);
    try {
      return await ctx.place(spec, full);
    } catch (err) {
      if (err !== full) throw err;
      remember(spec);
      return undefined;
    }
  };
  // Only the first shard that may fit is looked at before its write: the others only if it is full.
  const order = shardOrder(shards, ctx.random);
  const at = order.findIndex(fits);
  const first = order[at];
  if (first === undefined) throw plan.refusal();
  const placed = await attempt(first);
  if (placed !== undefined) return placed;
  const rest = order.slice(at + 1).filter(fits);
  if (rest.length === 0 || plan.room === undefined) throw plan.refusal();
  const { room } = plan;
  const held = await consistentBatchGet(
    ctx.db,
    rest.map((index) => {
      const { pk, sk } = specOf(index).counter;
      return { table: ctx.table, key: { pk, sk }, attributes: room.attributes };
    }),
  );
  // Shards the read shows full are remembered as if they had refused; the others are tried in random
  // order, so requests that find their first shard full spread over all the room that is left.
  const roomy: number[] = [];
  for (const [i, index] of rest.entries()) {
    if (room.has(held[i], index)) roomy.push(index);
    else remember(specOf(index));
  }
  for (const index of shuffled(roomy, ctx.random)) {
    const next = await attempt(index);
    if (next !== undefined) return next;
  }
  throw plan.refusal();
}
