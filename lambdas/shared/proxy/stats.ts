/**
 * `GET /v1/stats/providers` and `GET /v1/analytics`: public statistics read from the hourly per-provider
 * counters (`store/provider-stats.ts`), never from the request log, so they carry no key, team or request
 * and cost one small Query per provider. Windows are whole UTC hours: "hour" is the current and the
 * previous hour, "day" the last 25. An instance answers from memory for `statsFlushMs`, since the counters
 * cannot be fresher than that.
 */
import { NotFoundError } from '../errors.ts';
import { type GatewayRequest, type GatewayResponse, jsonResponse } from '../http.ts';
import { emptyCounts, type StatsCounts, ttfbP50 } from '../store/provider-stats.ts';
import type { ProxyRuntime } from './context.ts';
import type { ProviderFigures } from './provider-stats.ts';

const HOUR_MS = 3_600_000;

/** One window's figures as clients read them. */
function shown(counts: StatsCounts) {
  return {
    requests: counts.requests,
    rateLimited: counts.rateLimited,
    errors: counts.errors,
    errorRate: counts.requests === 0 ? 0 : Math.round((counts.errors / counts.requests) * 10_000) / 10_000,
    ttfbP50Ms: ttfbP50(counts.ttfb),
  };
}

/** Every provider's hour and day, from the store or this instance's memo. */
async function figures(rt: ProxyRuntime): Promise<ProviderFigures[]> {
  const { deps } = rt;
  const now = rt.now();
  // This instance's own counts first: locally the only instance, so the figures include every request.
  await rt.stats?.flush();
  const memo = rt.figures.get('all');
  if (memo !== undefined) return memo;
  const stats = deps.stats;
  const providers = await deps.providers.list();
  const until = new Date(now);
  const result = await Promise.all(
    providers.map(async (p) => {
      const [hour, day] =
        stats === undefined
          ? [undefined, undefined]
          : await Promise.all([
              stats.window(p.provider, new Date(now - HOUR_MS), until),
              stats.window(p.provider, new Date(now - 24 * HOUR_MS), until),
            ]);
      return { provider: p.provider, type: p.type, hour: hour ?? emptyCounts(), day: day ?? emptyCounts() };
    }),
  );
  rt.figures.set('all', result);
  return result;
}

/** `GET /v1/stats/providers`: per provider, requests, rate-limit events, error rate and TTFB p50. */
export async function providerStats(rt: ProxyRuntime, req: GatewayRequest): Promise<GatewayResponse> {
  const data = (await figures(rt)).map((f) => ({
    provider: f.provider,
    type: f.type,
    lastHour: shown(f.hour),
    lastDay: shown(f.day),
  }));
  return jsonResponse(200, { object: 'list', data }, { 'x-request-id': req.requestId });
}

/** `GET /v1/analytics`: the installation's aggregate use, only when the operator publishes it. */
export async function analytics(rt: ProxyRuntime, req: GatewayRequest): Promise<GatewayResponse> {
  if (rt.deps.publicAnalytics !== true) throw new NotFoundError(req.method, req.path);
  const all = await figures(rt);
  const sum = (pick: (f: ProviderFigures) => StatsCounts): StatsCounts =>
    all.map(pick).reduce(
      (total, c) => ({
        requests: total.requests + c.requests,
        rateLimited: total.rateLimited + c.rateLimited,
        errors: total.errors + c.errors,
        ttfb: total.ttfb.map((n, i) => n + (c.ttfb[i] ?? 0)),
      }),
      emptyCounts(),
    );
  return jsonResponse(
    200,
    {
      lastHour: shown(sum((f) => f.hour)),
      lastDay: shown(sum((f) => f.day)),
      providers: all.length,
      byProvider: all.map((f) => ({ provider: f.provider, lastDayRequests: f.day.requests })),
    },
    { 'x-request-id': req.requestId },
  );
}
