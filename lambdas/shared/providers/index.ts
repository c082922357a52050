/** The provider registry: adapters by the `type` operators register providers with. */
import type { ApiShape } from '../errors.ts';
import { anthropic } from './anthropic.ts';
import { gemini } from './gemini.ts';
import { openai, openaiCompatible } from './openai.ts';
import type { ProviderAdapter } from './types.ts';

export const PROVIDERS = {
  openai,
  'openai-compatible': openaiCompatible,
  anthropic,
  gemini,
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
