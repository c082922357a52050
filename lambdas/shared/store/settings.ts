/**
 * Installation-wide settings: what a model without a price costs a limited caller (refused, or billed at
 * an operator-set default price), and the optional monthly budget over every key with the number of
 * counter shards it is admitted against. One item in the providers table (`provider = #installation`),
 * so its changes are attributed and audited like every other configuration write.
 */
import { InvalidError } from '../operations/errors.ts';
import { newChange } from './attribution.ts';
import { bumpConfigVersion } from './config-version.ts';
import { type DocumentDb, isConditionalCheckFailed } from './db.ts';
import type { StoreOptions } from './keys.ts';
import { checkMicros } from './limits.ts';
import {
  changeSplit,
  type MonthBegun,
  nextMonthOf,
  type ShardSpec,
  type SplitUpdate,
  shardSpecOf,
} from './shards.ts';

/** A model's price in USD per million tokens (the providers store's shape). */
export interface Price {
  inputPerMTok: number;
  outputPerMTok: number;
}

/** The installation's settings as stored and shown. Money is in micro-USD. */
export interface InstallationSettings {
  /**
   * Charged for a model without a price. Without it, a key or team with a spend limit (or any key while an
   * installation budget is set) is refused such a model: unpriced use cannot be counted against a limit.
   */
  defaultPrice?: Price;
  /** Monthly budget over every key; 402 `billing_shortfall` once reached. */
  budgetMicros?: number;
  /** How many counters the installation's month is split over (see `shards.ts`). */
  budgetShards?: ShardSpec;
}

/** A first budget is split into one shard per this much (10 USD), up to 16. */
const AUTO_SHARD_MICROS = 10_000_000;

/** The settings item's key in the providers table. */
export const SETTINGS_KEY = { provider: '#installation', sk: 'settings' } as const;

/** A change to the settings; `null` clears a field. */
export interface SettingsPatch {
  defaultPrice?: Price | null;
  budgetMicros?: number | null;
  /** Takes effect from the next month, so no month is admitted against two different splits. */
  budgetShards?: number;
}

/** Reads and changes the installation's settings. */
export class SettingsStore {
  private readonly db: DocumentDb;
  private readonly table: string;
  private readonly options: StoreOptions;

  constructor(db: DocumentDb, table: string, options: StoreOptions = {}) {
    this.db = db;
    this.table = table;
    this.options = options;
  }

  /** The current settings (empty when never set). */
  async get(): Promise<InstallationSettings> {
    const out = await this.db.get({ TableName: this.table, Key: SETTINGS_KEY, ConsistentRead: true });
    return toSettings(out.Item);
  }

  /**
   * Applies a patch and returns the new settings, then moves the configuration version so every proxy's
   * cached copy is dropped within its check interval (a default price or budget binds within that bound).
   */
  async set(patch: SettingsPatch, begun?: MonthBegun): Promise<InstallationSettings> {
    const at = this.options.now?.() ?? new Date();
    const lastChange = newChange(this.options.actor, 'settings.set', { at });
    const sets = ['lastChange = :change'];
    const removes: string[] = [];
    const values: Record<string, unknown> = { ':change': lastChange };
    if (patch.defaultPrice === null) removes.push('defaultPrice');
    else if (patch.defaultPrice !== undefined) {
      for (const value of [patch.defaultPrice.inputPerMTok, patch.defaultPrice.outputPerMTok]) {
        if (!Number.isFinite(value) || value < 0 || value > 10_000)
          throw new InvalidError('prices must be USD per million tokens, from 0 to 10000');
      }
      sets.push('defaultPrice = :price');
      values[':price'] = {
        inputPerMTok: patch.defaultPrice.inputPerMTok,
        outputPerMTok: patch.defaultPrice.outputPerMTok,
      };
    }
    if (patch.budgetMicros === null) removes.push('budgetMicros');
    else if (patch.budgetMicros !== undefined) {
      checkMicros(patch.budgetMicros, 'the budget');
      sets.push('budgetMicros = :budget');
      values[':budget'] = patch.budgetMicros;
    }
    if (typeof patch.budgetMicros === 'number' && patch.budgetShards === undefined) {
      // A first budget gets a split sized to it, so the installation's month is no single hot item.
      const auto = Math.min(16, Math.max(1, Math.floor(patch.budgetMicros / AUTO_SHARD_MICROS)));
      sets.push(
        'shards = if_not_exists(shards, :auto)',
        'previousShards = if_not_exists(previousShards, :auto)',
        'shardsFrom = if_not_exists(shardsFrom, :from)',
      );
      values[':auto'] = auto;
      values[':from'] = nextMonthOf(at);
    }
    const write = async (split?: SplitUpdate) => {
      const out = await this.db.update({
        TableName: this.table,
        Key: SETTINGS_KEY,
        UpdateExpression: `SET ${[...sets, ...(split?.set ?? [])].join(', ')}${removes.length > 0 ? ` REMOVE ${removes.join(', ')}` : ''}`,
        ...(split === undefined ? {} : { ConditionExpression: split.condition }),
        ExpressionAttributeValues: { ...values, ...split?.values },
        ReturnValues: 'ALL_NEW',
      });
      return toSettings(out.Attributes);
    };
    // A split never set applies at once: no budget was ever counted, so no month runs on another.
    const settings =
      patch.budgetShards === undefined
        ? await write()
        : await changeSplit(
            {
              count: patch.budgetShards,
              at,
              initial: patch.budgetShards,
              ...(begun === undefined ? {} : { begun }),
            },
            write,
            isConditionalCheckFailed,
          );
    await bumpConfigVersion(this.db, this.table, lastChange);
    return settings;
  }
}

function toSettings(item: Record<string, unknown> | undefined): InstallationSettings {
  if (item === undefined) return {};
  const price = item.defaultPrice as Price | undefined;
  const split = shardSpecOf(item);
  return {
    ...(price === undefined
      ? {}
      : {
          defaultPrice: {
            inputPerMTok: Number(price.inputPerMTok),
            outputPerMTok: Number(price.outputPerMTok),
          },
        }),
    ...(item.budgetMicros === undefined ? {} : { budgetMicros: Number(item.budgetMicros) }),
    ...(split === undefined ? {} : { budgetShards: split }),
  };
}
