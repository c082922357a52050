/**
 * A proxied call from start to end: validate the body, hold the key to the authorizer's, resolve and
 * scope-check the model's targets, admit, then try the targets. Whatever happens after admission, the
 * reservation is settled.
 */
import { InvalidApiKeyError, NotFoundError, toGatewayError } from '../errors.ts';
import type { GatewayRequest, GatewayResponse } from '../http.ts';
import type { RouteSpec } from '../routes.ts';
import { admitCurrent } from './admission.ts';
import { parseJsonObject } from './body.ts';
import { requireKey } from './caller.ts';
import type { Outcome, ProxiedCall, ProxyRuntime } from './context.ts';
import { tryTargets } from './fallback.ts';
import { OPERATIONS } from './operations.ts';

/** The matched route of a request, with its path parameters. */
export interface MatchedRoute {
  route: RouteSpec;
  params: Record<string, string>;
}

/** Serves one request on a proxied route. */
export async function proxied(
  rt: ProxyRuntime,
  req: GatewayRequest,
  match: MatchedRoute,
  outcome: Outcome,
): Promise<GatewayResponse> {
  const { route, params } = match;
  const operation = OPERATIONS[route.operation];
  if (operation === undefined) throw new NotFoundError(req.method, req.path);
  const body = parseJsonObject(req.body, rt.deps.maxBodyBytes);
  const request = operation.read(body, params, req.query);
  const presented = await requireKey(rt.deps, req);
  const auth = req.auth;
  if (auth === undefined) throw new InvalidApiKeyError();
  outcome.model = request.model;
  const call: ProxiedCall = { req, auth, route, operation, body, request, outcome };
  const admitted = await admitCurrent(rt, call, presented);
  try {
    return await tryTargets(rt, admitted);
  } catch (err) {
    await admitted.finish({ status: toGatewayError(err).status });
    throw err;
  }
}
