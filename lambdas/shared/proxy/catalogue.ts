/**
 * The model catalogue as each API's SDKs read it: `GET /v1/models` (and one model, `GET /v1/models/{id}`)
 * in OpenAI's, Anthropic's or Gemini's list shape, the Gemini paths under `v1beta` too. Every entry says
 * which client API serves it (`api`): an SDK or coding tool can only reach a model through its own API's
 * routes, so the OpenAI-shaped list carries that field for tools (and `tollgate setup`) to choose by, and
 * the Anthropic and Gemini lists hold only their own API's models.
 */
import type { ApiShape } from '../errors.ts';
import { ModelNotFoundError } from '../errors.ts';
import { type GatewayRequest, type GatewayResponse, jsonResponse } from '../http.ts';
import { apiOf } from '../providers/index.ts';
import { requestShape } from '../routes.ts';
import { decodedPathParameter } from './body.ts';
import { presentedKey } from './caller.ts';
import type { ProxyRuntime } from './context.ts';
import type { MatchedRoute } from './proxied.ts';
import { modelAllowed, parseSlug } from './targets.ts';

/** One model (or alias) a caller may use. */
export interface CatalogueEntry {
  /** What a client sends as `model`: a `provider/model` slug or an alias name. */
  id: string;
  /** The upstream model id (an alias's name for aliases). */
  model: string;
  /** The provider, or `tollgate-alias`. */
  owner: string;
  /** The client API whose routes reach it. */
  api: ApiShape;
}

/** Every model and alias, narrowed to the presented key's scope when a key is presented. */
export async function catalogue(rt: ProxyRuntime, req: GatewayRequest): Promise<CatalogueEntry[]> {
  const { deps } = rt;
  const presented = await presentedKey(deps, req);
  const scope =
    presented === undefined
      ? undefined
      : (await deps.keys.authenticate(presented.keyId, presented.hash)).models;
  const [providers, aliases] = await Promise.all([deps.providers.list(), deps.providers.listAliases()]);
  const entries: CatalogueEntry[] = providers.flatMap((p) =>
    p.models
      .filter((m) => scope === undefined || modelAllowed(scope, { provider: p.provider, model: m }))
      .map((m) => ({ id: `${p.provider}/${m}`, model: m, owner: p.provider, api: apiOf(p.type) })),
  );
  for (const alias of aliases) {
    const targets = alias.targets.flatMap((t) => parseSlug(t) ?? []);
    if (!targets.some((t) => scope === undefined || modelAllowed(scope, t))) continue;
    // An alias is served on the routes of its first target's API (one route never translates).
    const first = providers.find((p) => p.provider === targets[0]?.provider);
    if (first !== undefined)
      entries.push({ id: alias.name, model: alias.name, owner: 'tollgate-alias', api: apiOf(first.type) });
  }
  return entries;
}

/** One entry in each API's own model object. */
const RENDER: Record<ApiShape, (entry: CatalogueEntry, created: number) => Record<string, unknown>> = {
  openai: (e, created) => ({ id: e.id, object: 'model', created, owned_by: e.owner, api: e.api }),
  anthropic: (e, created) => ({
    type: 'model',
    id: e.id,
    display_name: e.id,
    created_at: new Date(created * 1000).toISOString(),
  }),
  gemini: (e) => ({
    name: `models/${e.id}`,
    baseModelId: e.model,
    version: '001',
    displayName: e.id,
    supportedGenerationMethods: ['generateContent', 'streamGenerateContent', 'countTokens'],
  }),
};

/** A list of entries in each API's own list envelope. */
const LIST: Record<ApiShape, (items: Record<string, unknown>[]) => Record<string, unknown>> = {
  openai: (data) => ({ object: 'list', data }),
  anthropic: (data) => ({
    data,
    has_more: false,
    first_id: data[0]?.id ?? null,
    last_id: data.at(-1)?.id ?? null,
  }),
  gemini: (models) => ({ models }),
};

/** The entries the asking API can reach: all of them for OpenAI's list, which says each one's `api`. */
function visible(entries: CatalogueEntry[], shape: ApiShape): CatalogueEntry[] {
  return shape === 'openai' ? entries : entries.filter((e) => e.api === shape);
}

/** `GET /v1/models`, `GET /v1beta/models`: the catalogue in the asking API's list shape. */
export async function models(
  rt: ProxyRuntime,
  req: GatewayRequest,
  match: MatchedRoute,
): Promise<GatewayResponse> {
  const shape = requestShape(match.route, req);
  const created = Math.floor(rt.now() / 1000);
  const items = visible(await catalogue(rt, req), shape).map((e) => RENDER[shape](e, created));
  return jsonResponse(200, LIST[shape](items), { 'x-request-id': req.requestId });
}

/** `GET /v1/models/{id}`, `GET /v1beta/models/{id}`: one model by slug, alias or (Anthropic, Gemini) bare id. */
export async function model(
  rt: ProxyRuntime,
  req: GatewayRequest,
  match: MatchedRoute,
): Promise<GatewayResponse> {
  const shape = requestShape(match.route, req);
  // Gemini names models `models/{id}`; SDKs that pass the full name repeat the prefix.
  const id = decodedPathParameter(match.params.model ?? '').replace(/^models\//, '');
  const entries = visible(await catalogue(rt, req), shape);
  const found =
    entries.find((e) => e.id === id) ??
    (shape === 'openai' ? undefined : entries.find((e) => e.model === id));
  if (found === undefined)
    throw new ModelNotFoundError(`The model '${id}' does not exist or you do not have access to it.`);
  return jsonResponse(200, RENDER[shape](found, Math.floor(rt.now() / 1000)), {
    'x-request-id': req.requestId,
  });
}
