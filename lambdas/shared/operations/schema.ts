/**
 * The one input schema of every management operation, and the operation type itself. A field check turns
 * what the CLI typed (strings) or `/admin` sent (JSON) into the operation's input, or throws
 * {@link InvalidError} naming the field; both callers therefore accept and refuse exactly the same things.
 */
import { parseDuration, parseFutureDate, positiveNumber } from '../inputs.ts';
import type { KeyStore } from '../store/keys.ts';
import type { Meter } from '../store/metering.ts';
import type { ProviderStore } from '../store/providers.ts';
import type { RequestLogStore } from '../store/request-log.ts';
import type { SettingsStore } from '../store/settings.ts';
import { validShardCount } from '../store/shards.ts';
import type { TeamStore } from '../store/teams.ts';
import { InvalidError } from './errors.ts';

/** The stores an operation works on, attributed to the caller. */
export interface ManagementStores {
  keys: KeyStore;
  teams: TeamStore;
  providers: ProviderStore;
  /** Installation settings (default price, budget). */
  settings: SettingsStore;
  /** Spend counters, read by `teams show` and the settings. */
  meter: Meter;
  /** The request log, read by the usage operations. */
  requestLog: RequestLogStore;
}

/** Checks one field's raw value; `field` is its name for messages. */
export type Check<T> = (value: unknown, field: string) => T;

type Shape = Readonly<Record<string, Check<unknown>>>;

/** The input an operation receives from a shape. */
export type Input<S extends Shape> = { [K in keyof S]: ReturnType<S[K]> };

/** A management operation: input checked first (no storage touched), then run on the stores. */
export interface Operation<O = unknown> {
  /** Verb-noun: `createKey`, `deleteTeam`. */
  name: string;
  /** Checks `raw` now and returns the work to run on the stores; throws {@link InvalidError}. */
  prepare: (raw: unknown) => (stores: ManagementStores) => Promise<O>;
}

/** Declares an operation over a shape; unknown fields are refused, so a typo is never a silent no-op. */
export function operation<S extends Shape, O>(
  name: string,
  shape: S,
  run: (stores: ManagementStores, input: Input<S>) => Promise<O>,
): Operation<O> {
  return {
    name,
    prepare(raw) {
      const input = checkInput(shape, raw);
      return (stores) => run(stores, input);
    },
  };
}

/**
 * Checks `raw` against a shape: an object with only the shape's fields, each passing its check.
 * @throws {InvalidError} naming the first field that does not
 */
export function checkInput<S extends Shape>(shape: S, raw: unknown): Input<S> {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw new InvalidError('The body must be a JSON object.');
  const fields = raw as Record<string, unknown>;
  const unknown = Object.keys(fields).find((k) => !Object.hasOwn(shape, k) && fields[k] !== undefined);
  if (unknown !== undefined) throw new InvalidError(`unknown field '${unknown}'`, { field: unknown });
  const input: Record<string, unknown> = {};
  for (const [field, check] of Object.entries(shape)) input[field] = check(fields[field], field);
  return input as Input<S>;
}

/** A non-empty string, trimmed. */
export const text: Check<string> = (value, field) => {
  if (typeof value !== 'string' || value.trim() === '')
    throw new InvalidError(`${field} must be a non-empty string`, { field });
  return value.trim();
};

/** Absent (`undefined` or `null`) or passing `check`. */
export function optional<T>(check: Check<T>): Check<T | undefined> {
  return (value, field) => (value === undefined || value === null ? undefined : check(value, field));
}

/** For updates: absent leaves the value, `null` clears it, anything else must pass `check`. */
export function clearable<T>(check: Check<T>): Check<T | null | undefined> {
  return (value, field) => (value === undefined ? undefined : value === null ? null : check(value, field));
}

/** A positive number (a JSON number or a numeric string). */
export const positive: Check<number> = (value, field) => number(value, field, false);
/** A positive integer (a JSON number or a numeric string). */
export const positiveInteger: Check<number> = (value, field) => number(value, field, true);

/** How many counters a budget's month is split over: an integer from 1 to 100 (see `shards.ts`). */
export const shardCount: Check<number> = (value, field) => {
  const n = positiveInteger(value, field);
  try {
    return validShardCount(n);
  } catch (err) {
    throw new InvalidError(`${field}: ${(err as Error).message}`, { field, cause: err });
  }
};

function number(value: unknown, field: string, integer: boolean): number {
  const n =
    typeof value === 'number' || typeof value === 'string'
      ? positiveNumber(value, field, integer)
      : undefined;
  if (n === undefined)
    throw new InvalidError(`${field} must be a positive ${integer ? 'integer' : 'number'}`, { field });
  return n;
}

/** A non-negative integer (priorities). */
export const nonNegativeInteger: Check<number> = (value, field) => {
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0)
    throw new InvalidError(`${field} must be a non-negative integer`, { field });
  return n;
};

/** A list of strings: a JSON array, or one comma-separated string as typed on a command line. */
export const list: Check<string[]> = (value, field) => {
  const items = typeof value === 'string' ? value.split(',') : value;
  if (!Array.isArray(items) || !items.every((v) => typeof v === 'string'))
    throw new InvalidError(`${field} must be a list of strings`, { field });
  return items.map((v) => v.trim()).filter((v) => v !== '');
};

/** A boolean switch: true, false, or absent (false). */
export const flag: Check<boolean> = (value, field) => {
  if (value === undefined || value === null) return false;
  if (typeof value !== 'boolean') throw new InvalidError(`${field} must be true or false`, { field });
  return value;
};

/** A date in the future, as an ISO string. */
export const futureDate: Check<string> = (value, field) => parseFutureDate(text(value, field), field);

/** A duration (`30m`, `2h`, `7d`) in milliseconds. */
export const duration: Check<number> = (value, field) => parseDuration(text(value, field), field);
