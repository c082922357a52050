import type { DocumentDb } from './db.ts';
/**
 * Per-provider request statistics by UTC hour, in the usage table (`stats#<provider>` / `hour#<hour>`):
 * requests, rate-limit events, upstream errors and a histogram of time to the upstream's first byte. Proxy
 * instances add what they counted in one `ADD` per provider per flush (see `proxy/provider-stats.ts`), so
 * no request writes one of these items itself; a read is one Query of at most 24 items per provider.
 */

/** Upper bounds (ms) of the time-to-first-byte buckets; the last is unbounded. */
export const TTFB_BUCKETS_MS = [100, 250, 500, 1000, 2000, 4000, 8000, 16_000, 32_000, 64_000] as const;

/** What one instance counted for one provider in one hour. */
export interface StatsCounts {
  requests: number;
  rateLimited: number;
  errors: number;
  /** Counts per {@link TTFB_BUCKETS_MS} bucket, plus one for slower. */
  ttfb: number[];
}

/** Empty counts. */
export function emptyCounts(): StatsCounts {
  return { requests: 0, rateLimited: 0, errors: 0, ttfb: new Array(TTFB_BUCKETS_MS.length + 1).fill(0) };
}

/** The bucket a time to first byte falls in. */
export function ttfbBucket(ms: number): number {
  const index = TTFB_BUCKETS_MS.findIndex((bound) => ms <= bound);
  return index === -1 ? TTFB_BUCKETS_MS.length : index;
}

/** The median's bucket bound in ms (the unbounded bucket reports its lower bound), or null without data. */
export function ttfbP50(ttfb: readonly number[]): number | null {
  const total = ttfb.reduce((a, b) => a + b, 0);
  if (total === 0) return null;
  let seen = 0;
  for (const [index, count] of ttfb.entries()) {
    seen += count;
    if (seen * 2 >= total)
      return TTFB_BUCKETS_MS[index] ?? TTFB_BUCKETS_MS[TTFB_BUCKETS_MS.length - 1] ?? null;
  }
  return null;
}

const hourKey = (at: Date): string => `hour#${at.toISOString().slice(0, 13)}`;

/** Statistics items access. */
export class ProviderStatsStore {
  private readonly db: DocumentDb;
  private readonly table: string;

  constructor(db: DocumentDb, table: string) {
    this.db = db;
    this.table = table;
  }

  /** Adds one instance's counts for a provider's hour: one write, whatever the number of requests. */
  async add(provider: string, hour: Date, counts: StatsCounts): Promise<void> {
    const values: Record<string, number> = {
      ':requests': counts.requests,
      ':rateLimited': counts.rateLimited,
      ':errors': counts.errors,
    };
    const adds = ['requests :requests', 'rateLimited :rateLimited', 'errors :errors'];
    for (const [index, count] of counts.ttfb.entries()) {
      if (count === 0) continue;
      adds.push(`ttfb${index} :t${index}`);
      values[`:t${index}`] = count;
    }
    await this.db.update({
      TableName: this.table,
      Key: { pk: `stats#${provider}`, sk: hourKey(hour) },
      UpdateExpression: `ADD ${adds.join(', ')}`,
      ExpressionAttributeValues: values,
    });
  }

  /** A provider's counts summed over the hours from `since` to `until`, both included. */
  async window(provider: string, since: Date, until: Date): Promise<StatsCounts> {
    const out = await this.db.query({
      TableName: this.table,
      KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
      ExpressionAttributeValues: {
        ':pk': `stats#${provider}`,
        ':from': hourKey(since),
        ':to': hourKey(until),
      },
    });
    const total = emptyCounts();
    for (const item of out.Items ?? []) {
      total.requests += Number(item.requests ?? 0);
      total.rateLimited += Number(item.rateLimited ?? 0);
      total.errors += Number(item.errors ?? 0);
      for (let i = 0; i < total.ttfb.length; i++)
        total.ttfb[i] = (total.ttfb[i] ?? 0) + Number(item[`ttfb${i}`] ?? 0);
    }
    return total;
  }
}
