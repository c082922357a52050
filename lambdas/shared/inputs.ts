/**
 * Parsing of operator input shared by the CLI and the management API, so both accept and refuse exactly
 * the same things. Errors are {@link InputError}s: the CLI shows them as usage errors, the API as 400s.
 */
import { InvalidError } from './operations/errors.ts';

/** A value an operator typed or sent that cannot be used; the message starts with the field's name. */
export class InputError extends InvalidError {
  constructor(message: string, field?: string) {
    super(message, field === undefined ? {} : { field });
    this.name = 'InputError';
  }
}

/** USD to micro-USD, for limits typed by operators. */
export function usdToMicros(usd: number): number {
  return Math.round(usd * 1_000_000);
}

/** Parses `30s`, `15m`, `2h`, `7d` into milliseconds. */
export function parseDuration(value: string, name: string): number {
  const match = /^(\d+)(s|m|h|d)$/.exec(value.trim());
  if (match === null) throw new InputError(`${name} '${value}' is not a duration (e.g. 30m, 2h, 7d)`, name);
  const unit = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[match[2] as 's' | 'm' | 'h' | 'd'];
  return Number(match[1]) * unit;
}

/** A date that must lie in the future, as an ISO string. */
export function parseFutureDate(value: string, name: string): string {
  const at = new Date(value);
  if (Number.isNaN(at.getTime()))
    throw new InputError(`${name} '${value}' is not a date (use ISO 8601, e.g. 2027-01-31)`, name);
  if (at.getTime() <= Date.now()) throw new InputError(`${name} must be in the future`, name);
  return at.toISOString();
}

/** A positive number (or integer) from what an operator typed or sent; undefined stays undefined. */
export function positiveNumber(
  value: string | number | undefined,
  name: string,
  integer: boolean,
): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isSafeInteger(n))) {
    throw new InputError(`${name} must be a positive ${integer ? 'integer' : 'number'}`, name);
  }
  return n;
}
