/**
 * Split counters on DynamoDB Local: a key's month split like a team's (its limit exact under 200-way
 * concurrency, its spend, requests and last use read over every shard), and neither a second change of
 * any split within one month nor a change whose writer's clock is behind as the month turns moving the
 * running month off the split it is admitted against.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { ENV, readEnv } from '#shared/env.ts';
import { setKeyShards } from '#shared/operations/keys.ts';
import { updateSettings } from '#shared/operations/settings.ts';
import { setTeamShards } from '#shared/operations/teams.ts';
import { leanDocumentDb } from '#shared/sdk-lean/dynamodb.ts';
import { KeyStore } from '#shared/store/keys.ts';
import { type AdmissionRequest, Meter } from '#shared/store/metering.ts';
import { meterFromEnv } from '#shared/store/request-path.ts';
import { SettingsStore } from '#shared/store/settings.ts';
import { type ShardSpec, shardsEverUsed, shardsFor } from '#shared/store/shards.ts';
import { TeamStore } from '#shared/store/teams.ts';
import type { setupLocalEnv } from '../../../helpers/local-env.ts';

let env: Awaited<ReturnType<typeof setupLocalEnv>>;
const actor = { id: 'local:key-shards-test' };

beforeAll(async () => {
  const { setupLocalEnv } = await import('../../../helpers/local-env.ts');
  env = await setupLocalEnv();
});

/** Stores whose clock reads `clock.at`, so changes can be made in chosen months. */
function clockedStores(clock: { at: Date }) {
  const db = leanDocumentDb();
  const table = (name: keyof typeof ENV): string => String(process.env[ENV[name]]);
  const now = () => clock.at;
  return {
    keys: new KeyStore(db, table('keysTable'), 'sk-tg-', { actor, now, teamsTable: table('teamsTable') }),
    teams: new TeamStore(db, table('teamsTable'), { actor, now }),
    settings: new SettingsStore(db, table('providersTable'), { actor, now }),
  };
}

/** What each of `months` is admitted against under `spec`. */
const splits = (spec: ShardSpec | undefined, months: string[]): number[] =>
  months.map((month) => shardsFor(spec, month));

describe('a split changed twice in one month', () => {
  it('keeps the running month of a key, a team and the installation on its split', async () => {
    // Prepare
    const clock = { at: new Date('2031-01-10T12:00:00Z') };
    const stores = clockedStores(clock);
    const { key } = await stores.keys.create({ name: 'twice' });
    const team = await stores.teams.create('twice');

    // Act: 16 then 4 in January; then 8 in March, when 4 runs.
    const keySplits = [];
    const teamSplits = [];
    for (const [month, count] of [
      ['2031-01-10', 16],
      ['2031-01-20', 4],
      ['2031-03-05', 8],
    ] as const) {
      clock.at = new Date(`${month}T12:00:00Z`);
      keySplits.push((await stores.keys.setShards(key.keyId, count)).monthShards);
      teamSplits.push((await stores.teams.setBudgetShards(team.teamId, count)).budgetShards);
    }
    clock.at = new Date('2031-01-10T12:00:00Z');
    const firstBudget = (await stores.settings.set({ budgetMicros: 5_000_000, budgetShards: 16 }))
      .budgetShards;
    clock.at = new Date('2031-01-20T12:00:00Z');
    const secondBudget = (await stores.settings.set({ budgetShards: 4 })).budgetShards;

    // Assess: January stays on 1 through both changes (16 never runs), February runs 4, April 8.
    const months = ['2031-01', '2031-02', '2031-03', '2031-04'];
    expect(splits(keySplits[1], months)).toEqual([1, 4, 4, 4]);
    expect(splits(teamSplits[1], months)).toEqual([1, 4, 4, 4]);
    expect(splits(keySplits[2], months.slice(2))).toEqual([4, 8]);
    expect(splits(teamSplits[2], months.slice(2))).toEqual([4, 8]);
    expect(keySplits[2]).toMatchObject({ count: 8, previous: 4, from: '2031-04' });
    // Every count a month may have used, so a read over all months finds every shard.
    expect(keySplits[2]?.ever?.sort((a, b) => a - b)).toEqual([4, 8, 16]);
    expect(shardsEverUsed(keySplits[2])).toBe(16);
    // The installation's first split applies at once (no budget was counted before), the second next month.
    expect(splits(firstBudget, months.slice(0, 2))).toEqual([16, 16]);
    expect(splits(secondBudget, months.slice(0, 2))).toEqual([16, 4]);
  });

  it('refuses a split of a key or team that does not exist as not found', async () => {
    const stores = clockedStores({ at: new Date() });
    await expect(stores.keys.setShards('NoSuchKey123', 4)).rejects.toMatchObject({ code: 'not_found' });
    await expect(stores.teams.setBudgetShards('team_NoSuchTeam1', 4)).rejects.toMatchObject({
      code: 'not_found',
    });
  });
});

describe('a split changed as the month turns', () => {
  /**
   * A key with room for 10 requests whose June began counting 6 on one shard, then split over 4 by a
   * writer whose clock still reads May; and what 200 more June requests are admitted against it.
   */
  async function lateSplit(askCounters: boolean) {
    const clock = { at: new Date('2031-05-31T23:59:50Z') };
    const stores = clockedStores(clock);
    const { key } = await stores.keys.create({ name: `late-${askCounters}`, monthlyLimitMicros: 10_000 });
    const meter = env.stores.meter;
    const june = (i: number, keyShards?: ShardSpec): AdmissionRequest => ({
      requestId: `late-${key.keyId}-${i}`,
      keyId: key.keyId,
      limits: { monthlyLimitMicros: 10_000, ...(keyShards === undefined ? {} : { keyShards }) },
      estimateMicros: 1000,
      estimateTokens: 10,
      at: new Date('2031-06-01T00:00:05Z'),
    });
    for (let i = 0; i < 6; i++) await meter.settle(await meter.admit(june(i)), 1000, 10);

    const split = await stores.keys.setShards(
      key.keyId,
      4,
      askCounters ? meter.monthBegun(`key#${key.keyId}`, 1) : undefined,
    );
    const spec = split.monthShards;
    const results = await Promise.allSettled(
      Array.from({ length: 200 }, (_, i) => meter.admit(june(100 + i, spec))),
    );
    const admitted = results.filter((r) => r.status === 'fulfilled').length;
    return { spec, juneTotal: 6 + admitted };
  }

  it("keeps a month that has begun counting on its split, whatever the writer's clock says", async () => {
    const guarded = await lateSplit(true);
    expect(guarded.spec).toMatchObject({ count: 4, previous: 1, from: '2031-07' });
    expect(guarded.juneTotal).toBe(10);
  });

  it('would otherwise move June onto the new split and admit past the limit (what the check prevents)', async () => {
    const unguarded = await lateSplit(false);
    expect(unguarded.spec).toMatchObject({ count: 4, from: '2031-06' });
    expect(unguarded.juneTotal).toBeGreaterThan(10);
  });

  it('asks the counters in the operations the CLI and /admin run, for keys, teams and the installation', async () => {
    // Prepare: next month (by this machine's clock) has already begun counting for a key, a team and the
    // installation.
    const next = new Date(Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth() + 1, 2));
    const { key } = await env.stores.keys.create({ name: 'late-op' });
    const team = await env.stores.teams.create(`late-op-${Date.now()}`, 1_000_000);
    await env.stores.meter.admit({
      requestId: `late-op-${key.keyId}`,
      keyId: key.keyId,
      teamId: team.teamId,
      limits: { teamBudgetMicros: 1_000_000 },
      installation: { budgetMicros: 1_000_000 },
      estimateMicros: 10,
      estimateTokens: 1,
      at: next,
    });

    // Act
    const keyView = await setKeyShards.prepare({ id: key.keyId, count: 3 })(env.stores);
    const teamView = await setTeamShards.prepare({ id: team.teamId, count: 3 })(env.stores);
    const settings = await updateSettings.prepare({ budgetShards: 3 })(env.stores);

    // Assess: both apply from the month after the one that began.
    const after = new Date(Date.UTC(next.getUTCFullYear(), next.getUTCMonth() + 1, 1))
      .toISOString()
      .slice(0, 7);
    expect(JSON.stringify(keyView)).toContain(`"from":"${after}"`);
    expect(JSON.stringify(teamView)).toContain(`"from":"${after}"`);
    expect(settings.budgetShards).toMatchObject({ count: 3, from: after });
  });
});

describe('a split changed while cached limits may still carry the old one', () => {
  it('counts a month as begun when it starts within the time a cached copy of the limits may live', async () => {
    // Prepare: one meter whose callers may act on limits 40 days old, so next month starts within that by
    // any clock; one whose callers never cache.
    const table = String(process.env[ENV.usageTable]);
    const cached = new Meter(leanDocumentDb(), table, { staleMs: 40 * 86_400_000 });
    const uncached = new Meter(leanDocumentDb(), table, { staleMs: 0 });
    const { key: first } = await env.stores.keys.create({ name: 'stale-cached' });
    const { key: second } = await env.stores.keys.create({ name: 'stale-uncached' });

    // Act
    const late = await env.stores.keys.setShards(first.keyId, 3, cached.monthBegun(`key#${first.keyId}`, 1));
    const early = await env.stores.keys.setShards(
      second.keyId,
      3,
      uncached.monthBegun(`key#${second.keyId}`, 1),
    );

    // Assess: nothing was counted, yet the first waits a month more; the second applies from next month.
    const now = new Date();
    const monthFrom = (months: number) =>
      new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + months, 1)).toISOString().slice(0, 7);
    expect(late.monthShards).toMatchObject({ count: 3, previous: 1, from: monthFrom(2) });
    expect(early.monthShards).toMatchObject({ count: 3, previous: 1, from: monthFrom(1) });
  });

  it("takes that time from the env contract: the callers' cache (the authorizer's TTL) and the configuration check", async () => {
    // Prepare: next month, and the env contract with caches that outlive the time until it, and none.
    const now = new Date();
    const next = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1));
    const untilNext = Math.ceil((next.getTime() - Date.now()) / 1000);
    const long = meterFromEnv(
      { ...readEnv(), callerCacheSeconds: untilNext + 60, configCheckMs: 2000 },
      leanDocumentDb(),
    );
    const none = meterFromEnv({ ...readEnv(), callerCacheSeconds: 0, configCheckMs: 0 }, leanDocumentDb());
    const month = next.toISOString().slice(0, 7);

    // Act + Assess: no admission counted on this subject in either case.
    expect(await long.monthBegun('key#never-used', 1)(month)).toBe(true);
    expect(await none.monthBegun('key#never-used', 1)(month)).toBe(false);
  });
});

describe('a key split over shards, under concurrency', { timeout: 120_000 }, () => {
  it('admits exactly what its monthly limit allows across 200 requests, and reads back over every shard', async () => {
    // Prepare: room for 40 requests of 1000 µUSD, split 5001 ×7 + 5000 over 8 shards in effect.
    const keyShards = { count: 8, previous: 8, from: '2000-01' };
    const limits = { monthlyLimitMicros: 40 * 1000 + 7, keyShards };
    const meter = env.stores.meter;
    const requests: AdmissionRequest[] = Array.from({ length: 200 }, (_, i) => ({
      requestId: `split-key-${i}`,
      keyId: 'SplitKey0001',
      limits,
      estimateMicros: 1000,
      estimateTokens: 10,
      at: new Date(),
    }));

    // Act
    const results = await Promise.allSettled(requests.map((r) => meter.admit(r)));
    const admitted = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    await Promise.all(admitted.map((a) => meter.settle(a, 900, 10)));
    const refusals = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as Error] : []));
    const spend = await meter.monthSpend('key#SplitKey0001', new Date(), 8);
    const stats = await meter.keyStats('SplitKey0001', 8);
    const unsplitRead = await meter.keyStats('SplitKey0001', 1);

    // Assess: no overshoot, no shard left with room for a request, every refusal the key's own 402.
    expect(admitted.length).toBe(40);
    expect(new Set(admitted.map((a) => a.counters[0]?.pk))).toEqual(
      new Set(['key#SplitKey0001', ...Array.from({ length: 7 }, (_, i) => `key#SplitKey0001#${i + 1}`)]),
    );
    expect(new Set(refusals.map((e) => (e as { code?: string }).code))).toEqual(
      new Set(['api_key_quota_exceeded']),
    );
    expect(refusals[0]?.message).toContain('no shard of it has $0.001 left');
    expect(spend).toEqual(expect.objectContaining({ spentMicros: 40 * 900, reservedMicros: 0 }));
    expect(stats.requests).toBe(40);
    expect(stats.lastUsedAt).toBeDefined();
    expect(unsplitRead.requests).toBeLessThan(40);
  });

  it('splits its rate minute too: RPM exact across 200 requests, TPM within the slices, both read back summed', async () => {
    // Prepare: one minute for all; RPM 10 over 4 shards (3 + 3 + 2 + 2); TPM 1000 (250 each) for 100-token
    // requests: 2 per shard, so 8 of a possible 10 — a split leaves up to a request per shard unused.
    const keyShards = { count: 4, previous: 4, from: '2000-01' };
    const at = new Date(Math.floor(Date.now() / 60_000) * 60_000 + 1000);
    const burst = async (keyId: string, limits: AdmissionRequest['limits']) => {
      const results = await Promise.allSettled(
        Array.from({ length: 200 }, (_, i) =>
          env.stores.meter.admit({
            requestId: `${keyId}-${i}`,
            keyId,
            limits,
            estimateMicros: 0,
            estimateTokens: 100,
            at,
          }),
        ),
      );
      const admitted = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
      await Promise.all(admitted.map((a) => env.stores.meter.settle(a, 0, 100)));
      const codes = new Set(
        results.flatMap((r) => (r.status === 'rejected' ? [(r.reason as { code?: string }).code] : [])),
      );
      const shardsUsed = new Set(
        admitted.flatMap((a) => a.counters.filter((c) => c.kind === 'rate').map((c) => c.pk)),
      );
      return {
        admitted: admitted.length,
        codes,
        shardsUsed: shardsUsed.size,
        usage: await env.stores.meter.minuteUsage(keyId, at, 4),
      };
    };

    // Act
    const byRequests = await burst('SplitRpm0001', { rpm: 10, keyShards });
    const byTokens = await burst('SplitTpm0001', { tpm: 1000, keyShards });

    // Assess
    expect(byRequests).toMatchObject({ admitted: 10, shardsUsed: 4, codes: new Set(['rate_limited']) });
    expect(byRequests.usage).toMatchObject({ requests: 10, tokens: 1000 });
    expect(byTokens).toMatchObject({ admitted: 8, shardsUsed: 4, codes: new Set(['rate_limited']) });
    expect(byTokens.usage).toMatchObject({ requests: 8, tokens: 800 });
  });
});
