/**
 * Installation settings operations, under both `tollgate settings` and `/admin/settings`: the price charged
 * for models without one, and the monthly budget over every key with its shard count.
 */
import { usdToMicros } from '../inputs.ts';
import { microsToUsd } from '../proxy/estimate.ts';
import type { InstallationSettings, Price, SettingsPatch } from '../store/settings.ts';
import { shardsToRead } from '../store/shards.ts';
import { InvalidError } from './errors.ts';
import {
  type Check,
  clearable,
  type ManagementStores,
  operation,
  optional,
  positive,
  shardCount,
} from './schema.ts';

/** A non-negative amount (USD or USD per MTok): a JSON number or a numeric string. */
const amount: Check<number> = (value, field) => {
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isFinite(n) || n < 0)
    throw new InvalidError(`${field} must be a non-negative number`, { field });
  return n;
};

/** `{ inputPerMTok, outputPerMTok }` in USD per million tokens. */
const price: Check<Price> = (value, field) => {
  if (typeof value !== 'object' || value === null)
    throw new InvalidError(`${field} must be { inputPerMTok, outputPerMTok }`, { field });
  const { inputPerMTok, outputPerMTok } = value as Record<string, unknown>;
  return {
    inputPerMTok: amount(inputPerMTok, `${field}.inputPerMTok`),
    outputPerMTok: amount(outputPerMTok, `${field}.outputPerMTok`),
  };
};

/** The settings as shown, with this month's installation spend when a budget is set. */
export interface SettingsView {
  defaultPrice: Price | null;
  unpricedModels: string;
  budgetUsd: number | null;
  budgetShards: { count: number; previous: number; from: string };
  spentThisMonthUsd?: number;
}

async function view(stores: ManagementStores, settings: InstallationSettings): Promise<SettingsView> {
  const spend =
    settings.budgetMicros === undefined
      ? undefined
      : await stores.meter.monthSpend('install', new Date(), shardsToRead(settings.budgetShards));
  return {
    defaultPrice: settings.defaultPrice ?? null,
    unpricedModels:
      settings.defaultPrice === undefined
        ? 'refused to keys and teams with a spend limit (and to every key while a budget is set)'
        : 'billed at the default price',
    budgetUsd: settings.budgetMicros === undefined ? null : microsToUsd(settings.budgetMicros),
    budgetShards: settings.budgetShards ?? { count: 1, previous: 1, from: '' },
    ...(spend === undefined ? {} : { spentThisMonthUsd: microsToUsd(spend.spentMicros) }),
  };
}

/** The installation's settings. */
export const showSettings = operation('showSettings', {}, async (stores) =>
  view(stores, await stores.settings.get()),
);

/** Changes the settings: absent fields stay, `null` clears; a shard count applies from next month. */
export const updateSettings = operation(
  'updateSettings',
  { defaultPrice: clearable(price), budgetUsd: clearable(positive), budgetShards: optional(shardCount) },
  async (stores, input) => {
    const patch: SettingsPatch = {};
    if (input.defaultPrice !== undefined) patch.defaultPrice = input.defaultPrice;
    if (input.budgetUsd !== undefined)
      patch.budgetMicros = input.budgetUsd === null ? null : usdToMicros(input.budgetUsd);
    if (input.budgetShards !== undefined) patch.budgetShards = input.budgetShards;
    // Only a split change asks whether next month has begun counting (see `changeSplit`).
    const begun =
      input.budgetShards === undefined
        ? undefined
        : stores.meter.monthBegun('install', shardsToRead((await stores.settings.get()).budgetShards));
    return view(stores, await stores.settings.set(patch, begun));
  },
);
