/** Transport-neutral request and response types that the proxy core works with. */
import type { EffectiveLimits } from './store/metering.ts';

/** What the Lambda authorizer established about the caller, passed along as flat context. */
export interface AuthContext {
  keyId: string;
  keyName: string;
  /** Allowed model patterns; empty means all. */
  models: string[];
  /** Labels of the provider credentials the key (or its team) is bound to; absent means any. */
  credentials?: string[] | undefined;
  teamId: string | undefined;
  /** The key's limits and its team's budget, in micro-USD, requests and tokens per minute. */
  limits: EffectiveLimits;
  /** The `rev` of the key and team items this context was read from; admission checks them. */
  revisions?: Revisions | undefined;
}

/** Which revision of a key and its team (0: none yet, or no team) a context was read from. */
export interface Revisions {
  key: number;
  team: number;
}

/** One client request, already decoded from the API Gateway event. Header names are lower-case. */
export interface GatewayRequest {
  requestId: string;
  method: string;
  /** API Gateway resource path, e.g. `/v1/chat/completions`. */
  resource: string;
  path: string;
  /** Path parameters of the matched resource, e.g. `{ model: 'gemini-2.0-flash:generateContent' }`. */
  params: Readonly<Record<string, string>>;
  headers: Readonly<Record<string, string>>;
  query: Readonly<Record<string, string>>;
  body: string | undefined;
  auth: AuthContext | undefined;
  /** Fires when the client goes away, so upstream work stops with it. */
  signal: AbortSignal;
}

/** One response: a whole body, or a stream whose status and headers are committed before the first byte. */
export interface GatewayResponse {
  status: number;
  headers: Record<string, string>;
  body: string | ReadableStream<Uint8Array>;
}

/** A JSON response. */
export function jsonResponse(
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): GatewayResponse {
  return { status, headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) };
}

/** Lower-cases header names and keeps the last value of each; drops undefined values. */
export function normaliseHeaders(
  headers: Readonly<Record<string, string | undefined>> | null | undefined,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (value !== undefined) out[name.toLowerCase()] = value;
  }
  return out;
}
