/**
 * What a client's `model` names: a `provider/model` slug, an alias with ordered targets, or (for clients
 * of APIs whose SDKs send bare ids) a model of the first provider speaking that API; and which of those
 * a key's scope allows.
 */
import { API_SHAPES, type ApiShape } from '../apis.ts';
import { ModelNotFoundError } from '../errors.ts';
import { apiOf } from '../providers/index.ts';
import type { ProviderSource } from './context.ts';

/** A model slug split into the operator's provider name and the upstream model id. */
export interface ModelSlug {
  provider: string;
  model: string;
}

/** Splits `provider/model` at the first slash. */
export function parseSlug(model: string): ModelSlug | undefined {
  const slash = model.indexOf('/');
  if (slash <= 0 || slash === model.length - 1) return undefined;
  return { provider: model.slice(0, slash), model: model.slice(slash + 1) };
}

/** True when a key whose scope is `patterns` may use `slug` (`*`, `provider/*`, `provider` or the exact slug). */
export function modelAllowed(patterns: readonly string[], slug: ModelSlug): boolean {
  if (patterns.length === 0) return true;
  const full = `${slug.provider}/${slug.model}`;
  return patterns.some((p) => p === '*' || p === full || p === `${slug.provider}/*` || p === slug.provider);
}

/** Resolves what the client named into the ordered `provider/model` targets to try. */
export async function targetsFor(
  providers: ProviderSource,
  model: string,
  shape: ApiShape,
): Promise<ModelSlug[]> {
  const slug = parseSlug(model);
  if (slug !== undefined) return [slug];
  const alias = (await providers.listAliases()).find((a) => a.name === model);
  if (alias !== undefined) return alias.targets.flatMap((t) => parseSlug(t) ?? []);
  if (API_SHAPES[shape].bareModels) {
    // Clients of APIs whose SDKs send bare ids: the first provider speaking their API natively serves
    // them (never one that only answers it, like echo).
    const provider = (await providers.list()).find((p) => apiOf(p.type) === shape);
    if (provider !== undefined) return [{ provider: provider.provider, model }];
  }
  throw new ModelNotFoundError(
    `Model '${model}' is not a 'provider/model' slug or a known alias, e.g. 'openai/gpt-4o'.`,
  );
}
