/** The key a request presents, identified without I/O and held to the one the authorizer checked. */
import { identifyKey } from '../auth.ts';
import { InvalidApiKeyError } from '../errors.ts';
import type { GatewayRequest } from '../http.ts';
import { keyFromRequest } from '../keys.ts';
import type { ProxyDeps } from './context.ts';

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

/** The presented key, which must be the one the authorizer checked. */
export async function requireKey(deps: KeyDeps, req: GatewayRequest): Promise<PresentedKey> {
  const presented = await presentedKey(deps, req);
  if (presented === undefined || (req.auth !== undefined && presented.keyId !== req.auth.keyId))
    throw new InvalidApiKeyError();
  return presented;
}
