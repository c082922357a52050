/**
 * Size and range limits of what the configuration stores accept. DynamoDB refuses keys over 2 KB, items
 * over 400 KB and numbers over 38 digits with errors that would surface as 5xx; the stores refuse such
 * input first, as operator mistakes, whichever front end (CLI, `/admin`) it came through.
 */
import { InputError } from '../inputs.ts';

/** Longest name of a key or team. */
export const MAX_NAME_LENGTH = 256;
/** Longest model id, model pattern or alias target. */
export const MAX_MODEL_LENGTH = 256;
/** Most models in a key's scope or a provider's catalogue. */
export const MAX_MODELS = 500;
/** Largest money amount, in micro-USD (one billion USD): far inside a safe integer. */
export const MAX_MICROS = 1_000_000_000 * 1_000_000;
/** Largest RPM or TPM limit. */
export const MAX_RATE = 1_000_000_000_000;

/** True when `id` could be a stored key or team id (ids are short base62 with `_`); no read is worth it otherwise. */
export function isStoredId(id: string): boolean {
  return /^[A-Za-z0-9_-]{1,64}$/.test(id);
}

/** Checks a name's length; returns it. */
export function checkName(name: string, field = 'name'): string {
  if (name.trim() === '') throw new InputError(`${field} must not be empty`);
  if (name.length > MAX_NAME_LENGTH)
    throw new InputError(`${field} must be at most ${MAX_NAME_LENGTH} characters`);
  return name;
}

/** Checks a list of model ids or patterns. */
export function checkModels(models: readonly string[] | undefined, field = 'models'): void {
  if (models === undefined) return;
  if (models.length > MAX_MODELS) throw new InputError(`${field} may list at most ${MAX_MODELS} models`);
  for (const model of models) {
    if (typeof model !== 'string' || model.length > MAX_MODEL_LENGTH)
      throw new InputError(`each of ${field} must be a string of at most ${MAX_MODEL_LENGTH} characters`);
  }
}

/** Checks an optional positive integer no larger than `max`. */
export function checkCount(value: number | undefined, field: string, max: number): void {
  if (value === undefined) return;
  if (!Number.isSafeInteger(value) || value <= 0 || value > max)
    throw new InputError(`${field} must be a positive integer of at most ${max}`);
}

/** Checks an optional amount of micro-USD. */
export function checkMicros(value: number | undefined, field: string): void {
  if (value === undefined) return;
  if (!Number.isSafeInteger(value) || value <= 0 || value > MAX_MICROS)
    throw new InputError(`${field} must be more than 0 and at most ${MAX_MICROS / 1_000_000} USD`);
}

/** Checks everything a new key carries. */
export function checkKeyInput(input: {
  name: string;
  models?: readonly string[] | undefined;
  teamId?: string | undefined;
  expiresAt?: string | undefined;
  monthlyLimitMicros?: number | undefined;
  rpm?: number | undefined;
  tpm?: number | undefined;
}): void {
  checkName(input.name);
  checkModels(input.models);
  if (input.teamId !== undefined && !isStoredId(input.teamId))
    throw new InputError(`team '${input.teamId.slice(0, 64)}' is not a team id`);
  if (input.expiresAt !== undefined && Number.isNaN(Date.parse(input.expiresAt)))
    throw new InputError('expires must be a date');
  checkMicros(input.monthlyLimitMicros, 'the monthly limit');
  checkCount(input.rpm, 'rpm', MAX_RATE);
  checkCount(input.tpm, 'tpm', MAX_RATE);
}
