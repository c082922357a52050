/** The key a request presents, identified without I/O and held to the one the authorizer checked. */
import { authenticateCaller, identifyKey } from '../auth.ts';
import { InvalidApiKeyError } from '../errors.ts';
import type { AuthContext, GatewayRequest } from '../http.ts';
import { keyFromRequest } from '../keys.ts';
import { proxyChecksKey, type RouteSpec } from '../routes.ts';
import type { ProxyDeps, ProxyRuntime } from './context.ts';

/** A presented key's id and hash. */
export interface PresentedKey {
  keyId: string;
  hash: string;
}

type KeyDeps = Pick<ProxyDeps, 'keyPrefix' | 'importedKeys'>;

/** The key a request carries, identified without I/O; undefined when it carries none. */
export async function presentedKey(deps: KeyDeps, req: GatewayRequest): Promise<PresentedKey | undefined> {
  const candidate = keyFromRequest(req.headers, req.query);
  if (candidate === undefined) return undefined;
  const identified = await identifyKey(candidate, deps.keyPrefix, deps.importedKeys);
  if (identified === undefined) throw new InvalidApiKeyError();
  return identified;
}

/**
 * The caller's checked context: the authorizer's, or on a route without one the proxy's own check of the
 * presented key (the authorizer's very check, kept per instance for `callerCacheSeconds`). A cached
 * context may be stale; admission holds it to the key and team as they are now (see `admission.ts`).
 * @throws {InvalidApiKeyError} when there is neither
 */
export async function callerContext(
  rt: Pick<ProxyRuntime, 'deps' | 'callers'>,
  call: { req: GatewayRequest; route: RouteSpec },
  presented: PresentedKey,
): Promise<AuthContext> {
  if (call.req.auth !== undefined) return call.req.auth;
  if (!proxyChecksKey(call.route)) throw new InvalidApiKeyError();
  return rt.callers.getOrLoad(callerCacheKey(presented), () => authenticateCaller(rt.deps, presented));
}

/** A presented key's entry in the instance's caller cache. */
export function callerCacheKey(presented: PresentedKey): string {
  return `${presented.keyId}:${presented.hash}`;
}

/** The presented key, which must be the one the authorizer checked. */
export async function requireKey(deps: KeyDeps, req: GatewayRequest): Promise<PresentedKey> {
  const presented = await presentedKey(deps, req);
  if (presented === undefined || (req.auth !== undefined && presented.keyId !== req.auth.keyId))
    throw new InvalidApiKeyError();
  return presented;
}
