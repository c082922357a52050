/** The provider registry: adapters by the `type` operators register providers with. */
import type { ApiShape } from '../errors.ts';
import { anthropic } from './anthropic.ts';
import { echo } from './echo.ts';
import { gemini } from './gemini.ts';
import { openai, openaiCompatible } from './openai.ts';
import type { ProviderAdapter } from './types.ts';

export const PROVIDERS = {
  openai,
  'openai-compatible': openaiCompatible,
  anthropic,
  gemini,
  echo,
} as const satisfies Record<string, ProviderAdapter>;

export type ProviderType = keyof typeof PROVIDERS;

/** True when `type` names a registered adapter. */
export function isProviderType(type: string): type is ProviderType {
  return Object.hasOwn(PROVIDERS, type);
}

/** The adapter for a type. */
export function adapterFor(type: ProviderType): ProviderAdapter {
  return PROVIDERS[type];
}

/** The API a provider type speaks. */
export function apiOf(type: ProviderType): ApiShape {
  return PROVIDERS[type].api;
}

/** True when a provider type answers clients of `shape`. */
export function speaks(type: ProviderType, shape: ApiShape): boolean {
  const adapter: ProviderAdapter = PROVIDERS[type];
  return (adapter.apis ?? [adapter.api]).includes(shape);
}
