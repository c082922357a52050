/**
 * `tollgate settings`: a thin call of the settings operations (the same under `/admin/settings`). Options
 * are checked before any storage starts.
 */

import type { ManagementStores } from '#shared/operations/schema.ts';
import { showSettings, updateSettings } from '#shared/operations/settings.ts';
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

/** The operation input the options give; throws a usage error for contradictory ones. */
export function settingsInput(options: SettingsOptions): Record<string, unknown> {
  const raw: Record<string, unknown> = {};
  const priced = options.defaultInput !== undefined || options.defaultOutput !== undefined;
  if (priced && options.clearDefaultPrice === true)
    throw new UsageError('--clear-default-price cannot be combined with --default-input/--default-output');
  if (priced) {
    if (options.defaultInput === undefined || options.defaultOutput === undefined)
      throw new UsageError('a default price needs both --default-input and --default-output (USD per MTok)');
    raw.defaultPrice = { inputPerMTok: options.defaultInput, outputPerMTok: options.defaultOutput };
  } else if (options.clearDefaultPrice === true) raw.defaultPrice = null;
  if (options.budget !== undefined && options.clearBudget === true)
    throw new UsageError('--clear-budget cannot be combined with --budget');
  if (options.budget !== undefined) raw.budgetUsd = options.budget;
  else if (options.clearBudget === true) raw.budgetUsd = null;
  if (options.budgetShards !== undefined) raw.budgetShards = options.budgetShards;
  return raw;
}

/** Checks the options now and returns the work to run on the stores. */
export function settingsCommand(options: SettingsOptions): (stores: Stores) => Promise<void> {
  const raw = settingsInput(options);
  const work = (Object.keys(raw).length === 0 ? showSettings : updateSettings).prepare(raw);
  return async (stores) => {
    const view = await work(stores as ManagementStores);
    if (options.json) printJson(view);
    else {
      for (const [name, value] of Object.entries(view))
        process.stdout.write(
          `${name.padEnd(18)}${typeof value === 'string' ? value : JSON.stringify(value)}\n`,
        );
    }
  };
}
