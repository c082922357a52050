/**
 * Usage operations over the request log: a key's requests page by page, its error counts and time to first
 * byte, and a project's use. Each reads an index of the log, never scans it.
 */
import { microsToUsd } from '../proxy/estimate.ts';
import type { RequestLogEntry, RequestLogStore, RequestQuery } from '../store/request-log.ts';
import { InvalidError, NotFoundError } from './errors.ts';
import { resolveKey } from './resolve.ts';
import { type Check, type ManagementStores, operation, optional, positiveInteger, text } from './schema.ts';

/** The most entries one page may hold. */
export const MAX_PAGE = 1000;
/** The most entries a summary reads; beyond it the summary says it is truncated. */
export const SUMMARY_CAP = 50_000;

/** A request as every wire shows it (README, "Field names"): its own id `id`, its cost in USD. */
export interface ShownRequest extends Omit<RequestLogEntry, 'requestId' | 'costMicros'> {
  id: string;
  costUsd: number;
}

/** The entry as shown. */
export function shownRequest(entry: RequestLogEntry): ShownRequest {
  const { requestId, costMicros, ...rest } = entry;
  return { id: requestId, ...rest, costUsd: microsToUsd(costMicros) };
}

/** A point in time an operator typed (a date or a date and time), as the log's ISO string. */
export const instant: Check<string> = (value, field) => {
  const raw = text(value, field);
  const at = new Date(raw);
  if (Number.isNaN(at.getTime()))
    throw new InvalidError(`${field} '${raw}' is not a date (use ISO 8601, e.g. 2026-11-01)`, { field });
  return at.toISOString();
};

/** An HTTP status, 100-599. */
const httpStatus: Check<number> = (value, field) => {
  const n = positiveInteger(value, field);
  if (n < 100 || n > 599) throw new InvalidError(`${field} must be an HTTP status (100-599)`, { field });
  return n;
};

const pageSize: Check<number> = (value, field) => {
  const n = positiveInteger(value, field);
  if (n > MAX_PAGE) throw new InvalidError(`${field} must be at most ${MAX_PAGE}`, { field });
  return n;
};

/** What a request may name as its project: what a dashboard or a cost centre would call it. */
export const PROJECT_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:/@-]{0,127}$/;
/** {@link PROJECT_PATTERN} in words, after the name of the field or header that broke it. */
export const PROJECT_RULE = 'must be 1-128 letters, digits or . _ : / @ - (starting with a letter or digit)';

const project: Check<string> = (value, field) => {
  const name = text(value, field);
  if (!PROJECT_PATTERN.test(name)) throw new InvalidError(`${field} ${PROJECT_RULE}`, { field });
  return name;
};

/** The fields of a request listing, as the CLI, `/admin` and `/v1/usage/requests` take them. */
export const requestQueryShape = {
  since: optional(instant),
  until: optional(instant),
  status: optional(httpStatus),
  limit: optional(pageSize),
  cursor: optional(text),
};

/** A listing's query from its checked fields; 100 entries a page unless asked. */
export function requestQuery(input: {
  since?: string | undefined;
  until?: string | undefined;
  status?: number | undefined;
  limit?: number | undefined;
  cursor?: string | undefined;
}): RequestQuery {
  if (input.since !== undefined && input.until !== undefined && input.since > input.until)
    throw new InvalidError('since must not be after until', { field: 'since' });
  return { ...input, limit: input.limit ?? 100 };
}

/** The id whose requests to read: an existing key's, or a deleted one's (its log outlives it). */
async function keyIdFor(stores: ManagementStores, ref: string): Promise<string> {
  try {
    return (await resolveKey(stores, ref)).keyId;
  } catch (err) {
    if (err instanceof NotFoundError && /^[A-Za-z0-9]{1,64}$/.test(ref)) return ref;
    throw err;
  }
}

/** A page of the key's requests, newest first: `{requests, nextCursor?}`. */
export const listKeyRequests = operation(
  'listKeyRequests',
  { id: text, ...requestQueryShape },
  async (stores, input) => {
    const page = await stores.requestLog.forKey(await keyIdFor(stores, input.id), requestQuery(input));
    return { ...page, requests: page.requests.map(shownRequest) };
  },
);

/** Counts and percentiles over some requests. */
export interface RequestSummary {
  requests: number;
  /** Requests by HTTP status, e.g. `{"200": 40, "429": 2}`. */
  byStatus: Record<string, number>;
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
  ttfbP50Ms: number | null;
  ttfbP95Ms: number | null;
  /** More than {@link SUMMARY_CAP} requests matched: the figures cover the newest of them. */
  truncated: boolean;
}

/** The nearest-rank percentile `p` (0-100) of sorted values, or null for none. */
export function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? null;
}

/** Sums up entries: pure, so the CLI, `/admin` and tests agree on every figure. */
export function summarize(entries: readonly RequestLogEntry[], truncated = false): RequestSummary {
  const byStatus: Record<string, number> = {};
  const ttfbs: number[] = [];
  let micros = 0;
  let inputTokens = 0;
  let outputTokens = 0;
  for (const e of entries) {
    byStatus[e.status] = (byStatus[e.status] ?? 0) + 1;
    if (e.ttfbMs !== undefined) ttfbs.push(e.ttfbMs);
    micros += e.costMicros;
    inputTokens += e.inputTokens;
    outputTokens += e.outputTokens;
  }
  ttfbs.sort((a, b) => a - b);
  return {
    requests: entries.length,
    byStatus,
    inputTokens,
    outputTokens,
    costUsd: microsToUsd(micros),
    ttfbP50Ms: percentile(ttfbs, 50),
    ttfbP95Ms: percentile(ttfbs, 95),
    truncated,
  };
}

/** Every entry of a listing in the window, up to {@link SUMMARY_CAP}. */
async function collect(
  read: (query: RequestQuery) => ReturnType<RequestLogStore['forKey']>,
  window: { since: string; until?: string | undefined },
): Promise<{ entries: RequestLogEntry[]; truncated: boolean }> {
  const entries: RequestLogEntry[] = [];
  let cursor: string | undefined;
  do {
    const page = await read({ ...window, limit: MAX_PAGE, cursor });
    entries.push(...page.requests);
    cursor = page.nextCursor;
  } while (cursor !== undefined && entries.length < SUMMARY_CAP);
  return { entries: entries.slice(0, SUMMARY_CAP), truncated: cursor !== undefined };
}

/** The first instant of the current UTC month: the default window of a summary, as spend is monthly. */
function monthStart(now: Date): string {
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1)).toISOString();
}

const windowShape = { since: optional(instant), until: optional(instant) };

/** A summary's window: from the start of this month unless given; checked like a listing's. */
function summaryWindow(input: { since?: string | undefined; until?: string | undefined }) {
  const window = { since: input.since ?? monthStart(new Date()), until: input.until };
  requestQuery(window);
  return window;
}

/** A key's requests in a window (default: this month) by status, with tokens, cost and TTFB p50/p95. */
export const keyRequestSummary = operation(
  'keyRequestSummary',
  { id: text, ...windowShape },
  async (stores, input) => {
    const keyId = await keyIdFor(stores, input.id);
    const window = summaryWindow(input);
    const { entries, truncated } = await collect((q) => stores.requestLog.forKey(keyId, q), window);
    return { keyId, since: window.since, until: window.until ?? null, ...summarize(entries, truncated) };
  },
);

/** A project's use in a window (default: this month): totals, and the same by key and by model. */
export const projectUsage = operation('projectUsage', { project, ...windowShape }, async (stores, input) => {
  const window = summaryWindow(input);
  const { entries, truncated } = await collect((q) => stores.requestLog.forProject(input.project, q), window);
  const groups = (by: (e: RequestLogEntry) => string | undefined) => {
    const grouped = new Map<string, RequestLogEntry[]>();
    for (const e of entries) {
      const name = by(e) ?? '-';
      // Appended in place: copying the group per entry would be quadratic over 50,000 entries.
      const group = grouped.get(name);
      if (group === undefined) grouped.set(name, [e]);
      else group.push(e);
    }
    return Object.fromEntries([...grouped].map(([name, group]) => [name, summarize(group)]));
  };
  return {
    project: input.project,
    since: window.since,
    until: window.until ?? null,
    ...summarize(entries, truncated),
    byKey: groups((e) => e.keyId),
    byModel: groups((e) => e.model),
  };
});
