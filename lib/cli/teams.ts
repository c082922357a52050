/** `tollgate teams …` and `tollgate models price`, `tollgate usage`. */
import { usdToMicros } from '#shared/inputs.ts';
import { microsToUsd } from '#shared/proxy/estimate.ts';
import type { Stores } from './context.ts';
import { printJson, printTable, UsageError } from './output.ts';

/** Runs one `teams` subcommand. */
export async function teamsCommand(
  stores: Stores,
  sub: string,
  args: string[],
  options: { json: boolean; name?: string | undefined; budget?: string | undefined },
): Promise<void> {
  if (sub === 'create') {
    if (options.name === undefined || options.name.trim() === '')
      throw new UsageError('teams create needs --name NAME');
    let budget: number | undefined;
    if (options.budget !== undefined) {
      const usd = Number(options.budget);
      if (!Number.isFinite(usd) || usd <= 0)
        throw new UsageError('--budget must be a positive number of USD');
      budget = usdToMicros(usd);
    }
    const team = await stores.teams.create(options.name, budget);
    if (options.json) printJson(team);
    else process.stdout.write(`Created team ${team.teamId} (${team.name}).\n`);
    return;
  }
  if (sub === 'list') {
    const teams = await stores.teams.list();
    if (options.json) printJson(teams);
    else {
      printTable(
        ['ID', 'NAME', 'STATUS', 'BUDGET USD/MO'],
        teams.map((t) => [
          t.teamId,
          t.name,
          t.status,
          t.budgetMicros === undefined ? '-' : String(microsToUsd(t.budgetMicros)),
        ]),
      );
    }
    return;
  }
  const id = args[0];
  if (id === undefined) throw new UsageError(`teams ${sub} needs a team ID`);
  switch (sub) {
    case 'show': {
      const team = await stores.teams.require(id);
      const keys = await stores.keys.list({ teamId: id });
      const spend = await stores.meter.monthSpend(`team#${id}`);
      const view = {
        ...team,
        keys: keys.map((k) => k.keyId),
        spend: {
          month: spend.month,
          spentUsd: microsToUsd(spend.spentMicros),
          reservedUsd: microsToUsd(spend.reservedMicros),
        },
      };
      if (options.json) printJson(view);
      else
        process.stdout.write(
          `${team.teamId} ${team.name} (${team.status}) — ${keys.length} key(s), ${view.spend.spentUsd} USD spent in ${spend.month}\n`,
        );
      return;
    }
    case 'disable':
    case 'enable': {
      const team = await stores.teams.setStatus(id, sub === 'disable' ? 'disabled' : 'active');
      if (options.json) printJson(team);
      else process.stdout.write(`Team ${team.teamId} is now ${team.status}.\n`);
      return;
    }
    case 'delete': {
      const keys = await stores.keys.list({ teamId: id });
      if (keys.length > 0)
        throw new UsageError(`team ${id} still has ${keys.length} key(s); delete them first`);
      await stores.teams.delete(id);
      if (options.json) printJson({ teamId: id, deleted: true });
      else process.stdout.write(`Team ${id} deleted.\n`);
      return;
    }
    default:
      throw new UsageError(`unknown command 'teams ${sub}'`);
  }
}

/** `models price PROVIDER/MODEL --input USD_PER_MTOK --output USD_PER_MTOK`. */
export async function modelsCommand(
  stores: Stores,
  sub: string,
  args: string[],
  options: { json: boolean; input?: string | undefined; output?: string | undefined },
): Promise<void> {
  if (sub !== 'price') throw new UsageError(`unknown command 'models ${sub}'`);
  const slug = args[0] ?? '';
  const slash = slug.indexOf('/');
  if (slash <= 0 || slash === slug.length - 1) throw new UsageError('models price needs PROVIDER/MODEL');
  const input = Number(options.input);
  const output = Number(options.output);
  if (
    options.input === undefined ||
    options.output === undefined ||
    !Number.isFinite(input) ||
    !Number.isFinite(output)
  ) {
    throw new UsageError('models price needs --input and --output in USD per million tokens');
  }
  const config = await stores.providers.setPrice(slug.slice(0, slash), slug.slice(slash + 1), {
    inputPerMTok: input,
    outputPerMTok: output,
  });
  const price = config.prices[slug.slice(slash + 1)];
  if (options.json) printJson({ model: slug, ...price });
  else
    process.stdout.write(
      `${slug}: ${input} USD per million input tokens, ${output} per million output tokens.\n`,
    );
}

/** `usage [--key ID] [--team ID] [--request ID]`. */
export async function usageCommand(
  stores: Stores,
  options: {
    json: boolean;
    key?: string | undefined;
    team?: string | undefined;
    request?: string | undefined;
  },
): Promise<void> {
  if (options.request !== undefined) {
    const entry = await stores.requestLog.get(options.request);
    if (entry === undefined) throw new UsageError(`no request '${options.request}' in the request log`);
    if (options.json) printJson({ ...entry, costUsd: microsToUsd(entry.costMicros) });
    else {
      printTable(
        ['REQUEST', 'KEY', 'ROUTE', 'MODEL', 'STATUS', 'IN', 'OUT', 'USD', 'TTFB MS', 'MS', 'DISCONNECTED'],
        [
          [
            entry.requestId,
            entry.keyId,
            entry.route,
            entry.model ?? '-',
            String(entry.status),
            String(entry.inputTokens),
            String(entry.outputTokens),
            String(microsToUsd(entry.costMicros)),
            String(entry.ttfbMs ?? '-'),
            String(entry.durationMs),
            String(entry.disconnected),
          ],
        ],
      );
    }
    return;
  }
  const keys =
    options.key !== undefined
      ? [await stores.keys.require(options.key)]
      : await stores.keys.list(options.team === undefined ? {} : { teamId: options.team });
  const report = [];
  for (const key of keys) {
    const spend = await stores.meter.monthSpend(`key#${key.keyId}`);
    report.push({
      keyId: key.keyId,
      name: key.name,
      month: spend.month,
      spentUsd: microsToUsd(spend.spentMicros),
      days: await stores.usage.forKey(key.keyId),
    });
  }
  const team = options.team === undefined ? undefined : await stores.meter.monthSpend(`team#${options.team}`);
  if (options.json) {
    printJson({
      keys: report,
      ...(team === undefined
        ? {}
        : { team: { teamId: options.team, month: team.month, spentUsd: microsToUsd(team.spentMicros) } }),
    });
    return;
  }
  printTable(
    ['KEY', 'DAY', 'MODEL', 'REQUESTS', 'IN', 'OUT'],
    report.flatMap((k) =>
      k.days.map((d) => [
        k.keyId,
        d.day,
        d.model,
        String(d.requests),
        String(d.inputTokens),
        String(d.outputTokens),
      ]),
    ),
  );
  for (const k of report) process.stdout.write(`${k.keyId} (${k.name}): ${k.spentUsd} USD in ${k.month}\n`);
  if (team !== undefined)
    process.stdout.write(`team ${options.team}: ${microsToUsd(team.spentMicros)} USD in ${team.month}\n`);
}
