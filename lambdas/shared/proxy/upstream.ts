/**
 * Calls one provider's upstream with its credentials in priority order. A rate-limited answer (429,
 * `rate_limit`, `quota`, `RESOURCE_EXHAUSTED`) moves on to the next credential, before any byte reached
 * the client, and puts the credential on a cooldown for this Lambda instance; a refused credential (401,
 * 403) moves on too, since the next one may be valid; any other failure is final. When every credential
 * fails so, the last upstream answer is returned.
 */
import {
  InvalidRequestError,
  NoUpstreamCredentialError,
  UpstreamError,
  UpstreamTimeoutError,
} from '../errors.ts';
import type { ProviderAdapter, UpstreamOperation } from '../providers/types.ts';
import type { ResolvedProvider } from '../store/providers.ts';

/** A 2xx upstream answer with its headers in; the body is still to be read. */
export interface UpstreamSuccess {
  ok: true;
  response: Response;
  abort: AbortController;
  /** Stops the first-byte timer (streams hand over to the idle timer). */
  clearTimer: () => void;
}

/** An upstream answer that is not a success: its status, content type and whole body. */
export interface UpstreamFailure {
  ok: false;
  status: number;
  contentType: string;
  text: string;
  rateLimited: boolean;
  /** The upstream refused the operator's credential (401/403): the client's key is not at fault. */
  rejected: boolean;
  /** The upstream's `Retry-After`, passed on to the client with its 429. */
  retryAfter?: string;
}

/**
 * Reads a whole upstream body; a timeout while reading is a 504, a broken connection a 502. Stops the
 * first-byte timer either way.
 */
export async function readWhole(
  call: Pick<UpstreamSuccess, 'response' | 'abort' | 'clearTimer'>,
): Promise<string> {
  try {
    return await call.response.text();
  } catch {
    throw call.abort.signal.reason instanceof UpstreamTimeoutError
      ? call.abort.signal.reason
      : new UpstreamError('The upstream answer broke off.');
  } finally {
    call.clearTimer();
  }
}

/** Per-instance memory of rate-limited credentials. */
export class CredentialCooldowns {
  private readonly until = new Map<string, number>();
  private readonly now: () => number;

  constructor(now: () => number = Date.now) {
    this.now = now;
  }

  /** Credentials not cooling down, in order; when all are, all of them (better to try than to refuse). */
  usable<T extends { credentialId: string }>(credentials: T[]): T[] {
    const now = this.now();
    const fresh = credentials.filter((c) => (this.until.get(c.credentialId) ?? 0) <= now);
    return fresh.length > 0 ? fresh : credentials;
  }

  /** Skips a credential until `Retry-After` (seconds or HTTP date) or for the default. */
  coolDown(credentialId: string, retryAfter: string | null, defaultMs: number): void {
    let ms = defaultMs;
    if (retryAfter !== null) {
      const seconds = Number(retryAfter);
      const date = Date.parse(retryAfter);
      if (Number.isFinite(seconds)) ms = seconds * 1000;
      else if (!Number.isNaN(date)) ms = date - this.now();
    }
    this.until.set(credentialId, this.now() + Math.min(Math.max(ms, 0), 10 * 60_000));
  }
}

/** Options of one upstream call. */
export interface UpstreamCall {
  resolved: ResolvedProvider;
  adapter: ProviderAdapter;
  operation: UpstreamOperation;
  model: string;
  body: Record<string, unknown> | undefined;
  clientHeaders: Readonly<Record<string, string>>;
  /** Fires when the client leaves. */
  signal: AbortSignal;
  firstByteTimeoutMs: number;
  cooldownMs: number;
  cooldowns: CredentialCooldowns;
  fetch: typeof fetch;
  /** Told about every rate-limited credential, also those a later credential rescues. */
  onRateLimited: (status: number) => void;
  /** Told about every credential the upstream refused (401/403), also those a later credential rescues. */
  onRejected: (credentialId: string, status: number) => void;
  /** Told when the upstream itself failed (unreachable, timed out), never about a client's doing. */
  onUnreachable: (code: 'upstream_error' | 'upstream_timeout') => void;
}

/**
 * Tries the provider's credentials in turn.
 * @throws {UpstreamTimeoutError} when no headers arrive in time.
 * @throws {UpstreamError} when the upstream cannot be reached or redirects.
 */
export async function callUpstream(call: UpstreamCall): Promise<UpstreamSuccess | UpstreamFailure> {
  const { resolved, adapter } = call;
  const path = adapter.path(call.operation, call.model);
  if (path === undefined)
    throw new UpstreamError(`Provider '${resolved.config.provider}' does not serve this operation.`);
  // An in-process upstream needs no credential: one stand-in runs the loop once.
  const credentials =
    adapter.inProcess !== undefined && resolved.credentials.length === 0
      ? [{ credentialId: 'in-process', priority: 0, secret: '' }]
      : resolved.credentials;
  if (credentials.length === 0) throw new NoUpstreamCredentialError(resolved.config.provider);
  const send = adapter.inProcess?.serve ?? call.fetch;
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    accept: 'application/json, text/event-stream',
  };
  for (const [name, fallback] of Object.entries(adapter.forwardHeaders)) {
    const value = call.clientHeaders[name] ?? fallback;
    if (value !== undefined) headers[name] = value;
  }
  // Serialised before any connection: a body that cannot be sent is the client's, not the upstream's, failure.
  let body: string | undefined;
  try {
    body = call.body === undefined ? undefined : JSON.stringify(call.body);
  } catch {
    throw new InvalidRequestError('The request body cannot be forwarded.');
  }
  let last: UpstreamFailure | undefined;
  for (const credential of call.cooldowns.usable(credentials)) {
    const abort = new AbortController();
    const onClientGone = (): void => abort.abort(call.signal.reason);
    call.signal.addEventListener('abort', onClientGone, { once: true });
    const timer = setTimeout(() => abort.abort(new UpstreamTimeoutError()), call.firstByteTimeoutMs);
    const clearTimer = (): void => clearTimeout(timer);
    let response: Response;
    try {
      response = await send(`${resolved.config.baseUrl}${path}`, {
        method: 'POST',
        headers: { ...headers, ...adapter.authHeaders(credential.secret) },
        ...(body === undefined ? {} : { body }),
        signal: abort.signal,
        // A redirect must never carry the credential to a host the operator did not configure.
        redirect: 'manual',
      });
    } catch {
      clearTimer();
      if (call.signal.aborted) throw new UpstreamError('The client closed the connection.');
      if (abort.signal.reason instanceof UpstreamTimeoutError) {
        call.onUnreachable('upstream_timeout');
        throw abort.signal.reason;
      }
      call.onUnreachable('upstream_error');
      throw new UpstreamError('The upstream provider could not be reached.');
    }
    if (response.ok) return { ok: true, response, abort, clearTimer };
    let text: string;
    try {
      text = await readWhole({ response, abort, clearTimer });
    } catch (err) {
      if (!call.signal.aborted)
        call.onUnreachable(err instanceof UpstreamTimeoutError ? 'upstream_timeout' : 'upstream_error');
      throw err;
    }
    if (response.status >= 300 && response.status < 400) {
      throw new UpstreamError('The upstream provider answered with a redirect, which is not followed.');
    }
    const rateLimited = adapter.isRateLimited(response.status, text);
    const rejected = !rateLimited && (response.status === 401 || response.status === 403);
    const retryAfter = response.headers.get('retry-after');
    last = {
      ok: false,
      status: response.status,
      contentType: response.headers.get('content-type') ?? 'application/json',
      text,
      rateLimited,
      rejected,
      ...(retryAfter === null ? {} : { retryAfter }),
    };
    if (rejected) {
      call.onRejected(credential.credentialId, response.status);
      continue;
    }
    if (!rateLimited) return last;
    call.onRateLimited(response.status);
    call.cooldowns.coolDown(credential.credentialId, response.headers.get('retry-after'), call.cooldownMs);
  }
  if (last === undefined) throw new NoUpstreamCredentialError(resolved.config.provider);
  return last;
}
