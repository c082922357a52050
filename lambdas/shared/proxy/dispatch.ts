/** Which handler serves each route operation: the gateway's own routes, or the proxied call. */
import type { GatewayRequest, GatewayResponse } from '../http.ts';
import type { RouteOperation } from '../routes.ts';
import { model, models } from './catalogue.ts';
import type { Outcome, ProxyRuntime } from './context.ts';
import { docs, health, keyInfo, openapi, usageReport, usageRequests } from './info.ts';
import { type MatchedRoute, proxied } from './proxied.ts';
import { analytics, providerStats } from './stats.ts';

/** Serves one matched request; fills in `outcome` for the request log as it learns. */
export type RouteHandler = (
  rt: ProxyRuntime,
  req: GatewayRequest,
  match: MatchedRoute,
  outcome: Outcome,
) => Promise<GatewayResponse>;

/** The handler of every route operation. */
export const ROUTE_HANDLERS: Readonly<Record<RouteOperation, RouteHandler>> = {
  chatCompletions: proxied,
  responses: proxied,
  embeddings: proxied,
  messages: proxied,
  countTokens: proxied,
  geminiModel: proxied,
  models,
  model,
  keyInfo,
  usage: usageReport,
  usageRequests,
  health,
  providerStats,
  analytics,
  openapi,
  docs,
};
