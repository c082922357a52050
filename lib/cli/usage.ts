/**
 * `tollgate usage …`: spend and usage by key, team or project, a key's requests page by page, and one
 * request. The request-log readings are the usage operations `/admin` serves too.
 */

import { resolveKey, resolveTeam } from '#shared/operations/resolve.ts';
import type { ManagementStores, Operation } from '#shared/operations/schema.ts';
import {
  keyRequestSummary,
  listKeyRequests,
  projectUsage,
  type RequestSummary,
  type ShownRequest,
  shownRequest,
} from '#shared/operations/usage.ts';
import { microsToUsd } from '#shared/proxy/estimate.ts';
import { shardsToRead } from '#shared/store/shards.ts';
import { type CommandEntry, command } from './command-spec.ts';
import type { Stores } from './context.ts';
import { operationCommand } from './operation-command.ts';
import { printJson, printTable, UsageError } from './output.ts';

/** The options of every usage command, and the window they read. */
interface UsageOptions {
  json: boolean;
  key?: string | undefined;
  team?: string | undefined;
  project?: string | undefined;
  request?: string | undefined;
  since?: string | undefined;
  until?: string | undefined;
}

function run<R>(op: Operation<R>, stores: ManagementStores, input: Record<string, unknown>): Promise<R> {
  return op.prepare(input)(stores);
}

const REQUEST_COLUMNS = [
  'REQUEST',
  'AT',
  'ROUTE',
  'MODEL',
  'PROJECT',
  'STATUS',
  'IN',
  'OUT',
  'USD',
  'TTFB MS',
  'MS',
];

function requestRow(r: ShownRequest): string[] {
  return [
    r.id,
    r.at,
    r.route,
    r.model ?? '-',
    r.project ?? '-',
    String(r.status),
    String(r.inputTokens),
    String(r.outputTokens),
    String(r.costUsd),
    String(r.ttfbMs ?? '-'),
    String(r.durationMs),
  ];
}

/** The human lines of a summary: totals, requests by status, time to first byte. */
function summaryLines(label: string, s: RequestSummary): string {
  const statuses = Object.entries(s.byStatus)
    .map(([status, n]) => `${status}: ${n}`)
    .join(', ');
  return [
    `${label}: ${s.requests} requests${s.truncated ? ' (the newest; more matched)' : ''}, ${s.inputTokens} in / ${s.outputTokens} out tokens, ${s.costUsd} USD`,
    `  by status: ${statuses === '' ? '-' : statuses}`,
    `  time to first byte: p50 ${s.ttfbP50Ms ?? '-'} ms, p95 ${s.ttfbP95Ms ?? '-'} ms`,
    '',
  ].join('\n');
}

async function requestReport(stores: Stores, options: UsageOptions & { request: string }): Promise<void> {
  const entry = await stores.requestLog.get(options.request);
  if (entry === undefined) throw new UsageError(`no request '${options.request}' in the request log`);
  if (options.json) printJson(shownRequest(entry));
  else printTable(REQUEST_COLUMNS, [requestRow(shownRequest(entry))]);
}

async function projectReport(stores: Stores, options: UsageOptions & { project: string }): Promise<void> {
  const report = await run(projectUsage, stores, {
    project: options.project,
    since: options.since,
    until: options.until,
  });
  if (options.json) {
    printJson(report);
    return;
  }
  process.stdout.write(summaryLines(`project ${report.project} since ${report.since}`, report));
  for (const [by, groups] of [
    ['key', report.byKey],
    ['model', report.byModel],
  ] as const)
    for (const [name, s] of Object.entries(groups)) process.stdout.write(summaryLines(`  ${by} ${name}`, s));
}

/** `usage [--key ID] [--team ID] [--project P] [--request ID] [--since] [--until]`. */
export async function usageCommand(stores: Stores, options: UsageOptions): Promise<void> {
  if (options.request !== undefined) return requestReport(stores, { ...options, request: options.request });
  if (options.project !== undefined) return projectReport(stores, { ...options, project: options.project });
  const teamId = options.team === undefined ? undefined : (await resolveTeam(stores, options.team)).teamId;
  const one = options.key === undefined ? undefined : await resolveKey(stores, options.key);
  const keys = one !== undefined ? [one] : await stores.keys.list(teamId === undefined ? {} : { teamId });
  // Reading a key's requests costs a query per page: only for one key, where anomalies are looked for.
  // It gets the resolved id, so a name is not looked up twice.
  const summary =
    one === undefined
      ? undefined
      : await run(keyRequestSummary, stores, { id: one.keyId, since: options.since, until: options.until });
  const report = [];
  for (const key of keys) {
    const spend = await stores.meter.monthSpend(
      `key#${key.keyId}`,
      new Date(),
      shardsToRead(key.monthShards),
    );
    report.push({
      id: key.keyId,
      name: key.name,
      month: spend.month,
      spentUsd: microsToUsd(spend.spentMicros),
      days: await stores.usage.forKey(key.keyId),
    });
  }
  const team =
    teamId === undefined
      ? undefined
      : await stores.meter.monthSpend(
          `team#${teamId}`,
          new Date(),
          shardsToRead((await stores.teams.require(teamId)).budgetShards),
        );
  if (options.json) {
    printJson({
      keys: report,
      ...(summary === undefined ? {} : { requests: summary }),
      ...(team === undefined
        ? {}
        : { team: { id: teamId, month: team.month, spentUsd: microsToUsd(team.spentMicros) } }),
    });
    return;
  }
  printTable(
    ['KEY', 'DAY', 'MODEL', 'REQUESTS', 'IN', 'OUT'],
    report.flatMap((k) =>
      k.days.map((d) => [
        k.id,
        d.day,
        d.model,
        String(d.requests),
        String(d.inputTokens),
        String(d.outputTokens),
      ]),
    ),
  );
  for (const k of report) process.stdout.write(`${k.id} (${k.name}): ${k.spentUsd} USD in ${k.month}\n`);
  if (summary !== undefined) process.stdout.write(summaryLines(`requests since ${summary.since}`, summary));
  if (team !== undefined)
    process.stdout.write(`team ${teamId}: ${microsToUsd(team.spentMicros)} USD in ${team.month}\n`);
}

const WINDOW = {
  since: {
    type: 'string',
    value: 'DATE',
    summary: 'from this time (ISO 8601; default: start of this month)',
  },
  until: { type: 'string', value: 'DATE', summary: 'up to this time (ISO 8601; default: now)' },
} as const;

/** The `usage` commands. */
export const USAGE_COMMANDS: readonly CommandEntry[] = [
  command({
    name: 'usage',
    summary:
      "usage by day and model and spend this month; with --key also its requests by status and TTFB p50/p95; a project's use; one request",
    options: {
      key: { type: 'string', value: 'ID|NAME', summary: 'one key' },
      team: { type: 'string', value: 'ID|NAME', summary: "a team's keys and its spend" },
      project: {
        type: 'string',
        value: 'NAME',
        summary: "a project's requests, tokens and cost, by key and model",
      },
      request: { type: 'string', value: 'ID', summary: 'the x-request-id of a response' },
      ...WINDOW,
    },
    examples: [
      'tollgate usage --key ci --since 2026-11-20',
      'tollgate usage --team team_AbC123xyZ789',
      'tollgate usage --project checkout',
      'tollgate usage --request 6f1c…',
    ],
    run: ({ options, global, withStores }) =>
      withStores((s) => usageCommand(s, { ...options, json: global.json })).then(() => 0),
  }),
  operationCommand({
    name: 'usage requests',
    summary: "a key's requests, newest first, a page at a time (also refused ones: 402, 403, 429)",
    options: {
      key: { type: 'string', value: 'ID|NAME', summary: 'the key', required: true, field: 'id' },
      since: {
        type: 'string',
        value: 'DATE',
        summary: 'from this time (ISO 8601; default: the oldest logged)',
      },
      until: WINDOW.until,
      status: { type: 'string', value: 'CODE', summary: 'only requests answered with this HTTP status' },
      limit: { type: 'string', value: 'N', summary: 'at most N requests (1-1000, default 100)' },
      cursor: { type: 'string', value: 'C', summary: "the previous page's next cursor" },
    },
    examples: [
      'tollgate usage requests --key ci --status 429',
      'tollgate usage requests --key ci --cursor eyJ…',
    ],
    operation: listKeyRequests,
    print: (page) => {
      printTable(REQUEST_COLUMNS, page.requests.map(requestRow));
      if (page.nextCursor !== undefined) process.stdout.write(`more: --cursor ${page.nextCursor}\n`);
    },
  }),
];
