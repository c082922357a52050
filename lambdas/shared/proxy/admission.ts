/**
 * Admission: which of the model's targets the key's scope allows, then one round trip that re-checks the
 * key and its team and reserves the estimated cost and tokens before anything goes upstream.
 */
import { authenticateCaller } from '../auth.ts';
import { InvalidApiKeyError, ModelNotAllowedError, ModelNotPricedError } from '../errors.ts';
import type { AuthContext } from '../http.ts';
import type { KeyView } from '../store/key-reader.ts';
import type { EffectiveLimits } from '../store/metering.ts';
import type { ModelPrice } from '../store/providers.ts';
import { type Team, withoutChange } from '../store/team-reader.ts';
import { callerCacheKey, type PresentedKey } from './caller.ts';
import type { ProxiedCall, ProxyRuntime } from './context.ts';
import {
  costMicros,
  DEFAULT_OUTPUT_RESERVATION,
  estimateInputTokens,
  requestedOutputCap,
} from './estimate.ts';
import { freshTargets } from './provider-cache.ts';
import { type Settle, settler } from './settlement.ts';
import { type ModelSlug, modelAllowed } from './targets.ts';

/** A proxied call admitted and reserved for: what the upstream attempts work on. */
export interface AdmittedCall extends ProxiedCall {
  /** The targets to try, in order, all within the key's scope. */
  targets: ModelSlug[];
  priceOf(slug: ModelSlug): ModelPrice | undefined;
  /** Settles the reservation; called exactly once however the call ends. */
  finish: Settle;
  /** Estimated input tokens, billed when a streaming client leaves before the usage report. */
  inputEstimate: number;
}

/** The targets of the call's model that the key may use; throws when there are none. */
export async function allowedTargets(
  rt: ProxyRuntime,
  call: ProxiedCall,
  presented: PresentedKey,
): Promise<ModelSlug[]> {
  try {
    const targets = await freshTargets(rt.deps.providers, call.request.model, call.route.shape);
    const allowed = targets.filter((t) => modelAllowed(call.auth.models, t));
    if (allowed.length === 0) throw new ModelNotAllowedError(call.request.model);
    return allowed;
  } catch (err) {
    // Revocation wins over every other answer: a revoked key learns nothing about models.
    await rt.deps.keys.authenticate(presented.keyId, presented.hash);
    throw err;
  }
}

/** True when some spend limit applies to the caller. */
function isLimited(limits: EffectiveLimits): boolean {
  return limits.monthlyLimitMicros !== undefined || limits.teamBudgetMicros !== undefined;
}

/**
 * The targets a caller may be billed for: all of them for an unlimited caller; for a limited one only
 * priced targets, since unpriced use would pass every limit at $0.
 * @throws {ModelNotPricedError} when a limited caller is left with none.
 */
export function pricedTargets(
  targets: ModelSlug[],
  priceOf: (slug: ModelSlug) => ModelPrice | undefined,
  caller: { limited: boolean; model: string },
): ModelSlug[] {
  if (!caller.limited) return targets;
  const priced = targets.filter((t) => priceOf(t) !== undefined);
  if (priced.length === 0) throw new ModelNotPricedError(caller.model);
  return priced;
}

/** The key, authenticated, and the team the cached context names, in one round trip of consistent reads. */
async function readCaller(
  deps: ProxyRuntime['deps'],
  presented: PresentedKey,
  teamId: string | undefined,
): Promise<{ key: KeyView; team: Team | undefined }> {
  if (teamId === undefined)
    return { key: await deps.keys.authenticate(presented.keyId, presented.hash), team: undefined };
  const ref = deps.teams.ref(teamId);
  if (ref === undefined) throw new InvalidApiKeyError();
  const read = await deps.keys.authenticateAlong(presented.keyId, presented.hash, ref);
  return { key: read.key, team: read.along === undefined ? undefined : withoutChange(read.along) };
}

/** Re-checks the key (hash, status, expiry) and its team's status with consistent reads. */
async function verifyCaller(
  deps: ProxyRuntime['deps'],
  presented: PresentedKey,
  auth: AuthContext,
): Promise<void> {
  const { key, team } = await readCaller(deps, presented, auth.teamId);
  if (auth.teamId !== undefined && team?.status !== 'active') throw new InvalidApiKeyError();
  // The authorizer's context is cached: scope or limits changed since it was read make it stale, and
  // {@link admitCurrent} reads the key and team anew.
  const { revisions } = auth;
  if (
    revisions !== undefined &&
    (key.teamId !== auth.teamId || (key.rev ?? 0) !== revisions.key || (team?.rev ?? 0) !== revisions.team)
  )
    throw new InvalidApiKeyError();
}

/** What admission needs beyond the call: the key and the targets it may use. */
export interface AdmissionInput {
  presented: PresentedKey;
  targets: ModelSlug[];
}

/** Reserves the call's worst-case cost over its targets; throws the limit's error when it does not fit. */
export async function admit(
  rt: ProxyRuntime,
  call: ProxiedCall,
  input: AdmissionInput,
): Promise<AdmittedCall> {
  const { deps } = rt;
  const [views, settings] = await Promise.all([deps.providers.list(), deps.settings.get()]);
  const priceOf = (slug: ModelSlug): ModelPrice | undefined =>
    views.find((p) => p.provider === slug.provider)?.prices[slug.model] ?? settings.defaultPrice;
  let targets: ModelSlug[];
  try {
    targets = pricedTargets(input.targets, priceOf, {
      limited: isLimited(call.auth.limits) || settings.budgetMicros !== undefined,
      model: call.request.model,
    });
  } catch (err) {
    // As with scope: a revoked key learns nothing about models.
    await deps.keys.authenticate(input.presented.keyId, input.presented.hash);
    throw err;
  }
  const inputEstimate = estimateInputTokens(call.req.body);
  const outputEstimate =
    requestedOutputCap(call.body) ??
    (call.request.upstream === 'embeddings' || call.request.upstream === 'countTokens'
      ? 0
      : DEFAULT_OUTPUT_RESERVATION);
  const estimate = { inputTokens: inputEstimate, outputTokens: outputEstimate };
  const started = rt.now();
  const admission = await deps.meter.admit(
    {
      requestId: call.req.requestId,
      keyId: input.presented.keyId,
      teamId: call.auth.teamId,
      limits: call.auth.limits,
      installation:
        settings.budgetMicros === undefined
          ? undefined
          : { budgetMicros: settings.budgetMicros, shards: settings.budgetShards },
      estimateMicros: Math.max(0, ...targets.map((t) => costMicros(estimate, priceOf(t)))),
      estimateTokens: inputEstimate + outputEstimate,
      at: new Date(started),
    },
    // Read in parallel with the reservations: revocation (disable, delete, rotation, expiry, team
    // disable) takes effect on the very next request, at no extra round trip.
    () => verifyCaller(deps, input.presented, call.auth),
  );
  return {
    ...call,
    targets,
    priceOf,
    finish: settler(rt, call, admission, started),
    inputEstimate,
  };
}

/**
 * Scope check and admission, held to the key and team as they are now. The authorizer's context is cached
 * (for its TTL), so it may predate a change to the key or its team: admission refuses a context whose
 * revisions are no longer the items', and then — and on a scope or pricing refusal — the key and team are read once
 * more and the call is scoped and admitted on what they say now. A change therefore binds the next request.
 */
export async function admitCurrent(
  rt: ProxyRuntime,
  call: ProxiedCall,
  presented: PresentedKey,
): Promise<AdmittedCall> {
  try {
    return await admit(rt, call, { presented, targets: await allowedTargets(rt, call, presented) });
  } catch (err) {
    const stale =
      err instanceof InvalidApiKeyError ||
      err instanceof ModelNotAllowedError ||
      err instanceof ModelNotPricedError;
    if (!stale || call.auth.revisions === undefined) throw err;
    const auth = await authenticateCaller(rt.deps, presented);
    // The proxy's own cache of the context (routes without an authorizer) learns the change at once.
    if (call.req.auth === undefined) rt.callers.set(callerCacheKey(presented), auth);
    if (auth.revisions?.key === call.auth.revisions.key && auth.revisions.team === call.auth.revisions.team)
      throw err;
    const current = { ...call, auth };
    return admit(rt, current, { presented, targets: await allowedTargets(rt, current, presented) });
  }
}
