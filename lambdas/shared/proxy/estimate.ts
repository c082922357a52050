/**
 * Cost arithmetic. Admission reserves an estimate (input from the body's size, output from the request's
 * own token cap, or a default); settlement bills what the upstream reported. Money is micro-USD.
 */
import type { Usage } from '../providers/types.ts';
import type { ModelPrice } from '../store/providers.ts';

/** Reserved for the answer when the request names no output cap. */
export const DEFAULT_OUTPUT_RESERVATION = 4096;
/** The most output tokens a request is reserved for, whatever cap it names (no model writes more). */
export const MAX_OUTPUT_RESERVATION = 10_000_000;

/** A rough upper estimate of input tokens: about 4 bytes of JSON per token. */
export function estimateInputTokens(body: string | undefined): number {
  return Math.ceil(Buffer.byteLength(body ?? '', 'utf8') / 4);
}

/** The output cap the request sets itself, in any of the three APIs' spellings. */
export function requestedOutputCap(body: Record<string, unknown>): number | undefined {
  const generation = body.generationConfig as Record<string, unknown> | undefined;
  for (const value of [
    body.max_tokens,
    body.max_completion_tokens,
    body.max_output_tokens,
    generation?.maxOutputTokens,
  ]) {
    // No model writes more than this; a larger cap (1e21) would only overflow the reservation's arithmetic.
    if (typeof value === 'number' && Number.isFinite(value) && value >= 0)
      return Math.min(Math.ceil(value), MAX_OUTPUT_RESERVATION);
  }
  return undefined;
}

/** `ceil(tokens × USD per MTok)` micro-USD; a model without a price costs nothing. */
export function costMicros(usage: Usage, price: ModelPrice | undefined): number {
  if (price === undefined) return 0;
  return Math.ceil(usage.inputTokens * price.inputPerMTok + usage.outputTokens * price.outputPerMTok);
}

/** Micro-USD to USD, for display. */
export function microsToUsd(micros: number): number {
  return Math.round(micros) / 1_000_000;
}
