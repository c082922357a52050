/**
 * A proxied call from start to end: validate the body, hold the key to the authorizer's, resolve and
 * scope-check the model's targets, admit, then try the targets. Whatever happens after admission, the
 * reservation is settled.
 */
import { NotFoundError, toGatewayError } from '../errors.ts';
import type { GatewayRequest, GatewayResponse } from '../http.ts';
import type { RouteSpec } from '../routes.ts';
import { admitCurrent } from './admission.ts';
import { parseJsonObject } from './body.ts';
import { callerContext, requireKey } from './caller.ts';
import type { Outcome, ProxiedCall, ProxyRuntime } from './context.ts';
import { tryTargets } from './fallback.ts';
import { OPERATIONS } from './operations.ts';
import { takeProject } from './project.ts';
import { logRefusal } from './settlement.ts';

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
  const started = rt.now();
  // The key first: where no authorizer ran, an unknown key must learn nothing, not even about its body.
  const presented = await requireKey(rt.deps, req);
  const auth = await callerContext(rt, { req, route }, presented);
  outcome.keyId = auth.keyId;
  const { body, project } = takeProject(parseJsonObject(req.body, rt.deps.maxBodyBytes), req.headers);
  const request = operation.read(body, params, req.query);
  outcome.model = request.model;
  const call: ProxiedCall = { req, auth, route, operation, body, project, request, outcome };
  let admitted: Awaited<ReturnType<typeof admitCurrent>>;
  try {
    admitted = await admitCurrent(rt, call, presented);
  } catch (err) {
    // A known key's refusal (scope, limit, rate) belongs in its history; an unknown key has none.
    const { status } = toGatewayError(err);
    if (status >= 400 && status < 500 && status !== 401)
      await logRefusal(rt, { ...call, model: request.model }, { keyId: presented.keyId, status, started });
    throw err;
  }
  try {
    return await tryTargets(rt, admitted);
  } catch (err) {
    await admitted.finish({ status: toGatewayError(err).status });
    throw err;
  }
}
