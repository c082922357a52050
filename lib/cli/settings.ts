/**
 * `tollgate settings`: the installation-wide settings — the price charged for models without one, and the
 * monthly budget over every key with the number of counters it is split over. Without options it shows them.
 */
import { usdToMicros } from '#shared/inputs.ts';
import { microsToUsd } from '#shared/proxy/estimate.ts';
import type { InstallationSettings, SettingsPatch } from '#shared/store/settings.ts';
import { shardsToRead, validShardCount } from '#shared/store/shards.ts';
import type { Stores } from './context.ts';
import { printJson, UsageError } from './output.ts';

/** The options of `tollgate settings`. */
export interface SettingsOptions {
  json: boolean;
  defaultInput?: string | undefined;
  defaultOutput?: string | undefined;
  clearDefaultPrice?: boolean | undefined;
  budget?: string | undefined;
  clearBudget?: boolean | undefined;
  budgetShards?: string | undefined;
}

function usd(value: string, flag: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0)
    throw new UsageError(`${flag} must be a non-negative number of USD`);
  return n;
}

/** Turns the options into a patch; throws a usage error for contradictory or malformed ones. */
export function settingsPatch(options: SettingsOptions): SettingsPatch {
  const patch: SettingsPatch = {};
  const priced = options.defaultInput !== undefined || options.defaultOutput !== undefined;
  if (priced && options.clearDefaultPrice === true)
    throw new UsageError('--clear-default-price cannot be combined with --default-input/--default-output');
  if (priced) {
    if (options.defaultInput === undefined || options.defaultOutput === undefined)
      throw new UsageError('a default price needs both --default-input and --default-output (USD per MTok)');
    patch.defaultPrice = {
      inputPerMTok: usd(options.defaultInput, '--default-input'),
      outputPerMTok: usd(options.defaultOutput, '--default-output'),
    };
  } else if (options.clearDefaultPrice === true) patch.defaultPrice = null;
  if (options.budget !== undefined && options.clearBudget === true)
    throw new UsageError('--clear-budget cannot be combined with --budget');
  if (options.budget !== undefined) patch.budgetMicros = usdToMicros(usd(options.budget, '--budget'));
  else if (options.clearBudget === true) patch.budgetMicros = null;
  if (options.budgetShards !== undefined) {
    const n = Number(options.budgetShards);
    try {
      patch.budgetShards = validShardCount(n);
    } catch (err) {
      throw new UsageError(`--budget-shards: ${(err as Error).message}`);
    }
  }
  return patch;
}

function show(settings: InstallationSettings, spentMicros: number | undefined): Record<string, unknown> {
  return {
    defaultPrice: settings.defaultPrice ?? null,
    unpricedModels:
      settings.defaultPrice === undefined
        ? 'refused to keys and teams with a spend limit (and to every key while a budget is set)'
        : 'billed at the default price',
    budgetUsd: settings.budgetMicros === undefined ? null : microsToUsd(settings.budgetMicros),
    budgetShards: settings.budgetShards ?? { count: 1, previous: 1, from: '' },
    ...(spentMicros === undefined ? {} : { spentThisMonthUsd: microsToUsd(spentMicros) }),
  };
}

/** Runs `tollgate settings`. */
export async function settingsCommand(stores: Stores, options: SettingsOptions): Promise<void> {
  const patch = settingsPatch(options);
  const settings =
    Object.keys(patch).length === 0 ? await stores.settings.get() : await stores.settings.set(patch);
  const spend =
    settings.budgetMicros === undefined
      ? undefined
      : await stores.meter.monthSpend('install', new Date(), shardsToRead(settings.budgetShards));
  const view = show(settings, spend?.spentMicros);
  if (options.json) printJson(view);
  else {
    for (const [name, value] of Object.entries(view))
      process.stdout.write(
        `${name.padEnd(18)}${typeof value === 'string' ? value : JSON.stringify(value)}\n`,
      );
  }
}

/** Runs `tollgate teams shards ID --count N`. */
export async function teamShardsCommand(
  stores: Stores,
  teamId: string,
  options: { count: string; json: boolean },
): Promise<void> {
  const count = Number(options.count);
  try {
    validShardCount(count);
  } catch (err) {
    throw new UsageError(`--count: ${(err as Error).message}`);
  }
  const team = await stores.teams.setBudgetShards(teamId, count);
  if (options.json) printJson(team);
  else
    process.stdout.write(
      `Team ${team.teamId} will be admitted against ${count} shard(s) from ${team.budgetShards?.from ?? 'next month'}.\n`,
    );
}
