/**
 * Settlement: once per admitted request, whatever its end, the reservation is settled with the actual
 * cost, usage is counted, the request log written and upstream metrics emitted.
 */
import { logger } from '../log.ts';
import type { Usage } from '../providers/types.ts';
import type { Admission } from '../store/metering.ts';
import type { ModelPrice } from '../store/providers.ts';
import type { ProxiedCall, ProxyRuntime } from './context.ts';
import { costMicros } from './estimate.ts';
import type { ModelSlug } from './targets.ts';

/** How a proxied request ended, for settlement and the request log. */
export interface Ending {
  status: number;
  slug?: ModelSlug;
  price?: ModelPrice | undefined;
  usage?: Usage | undefined;
  disconnected?: boolean;
  firstByteAt?: number | undefined;
  /** Time until the upstream's response headers. */
  upstreamMs?: number | undefined;
}

/** The request log entry's fields that come from the call rather than from how it ended. */
function callFields(
  call: Pick<ProxiedCall, 'req' | 'route' | 'project'>,
  caller: { keyId: string; teamId?: string | undefined },
  started: number,
) {
  return {
    requestId: call.req.requestId,
    keyId: caller.keyId,
    ...(caller.teamId === undefined ? {} : { teamId: caller.teamId }),
    ...(call.project === undefined ? {} : { project: call.project }),
    route: `${call.req.method} ${call.route.path}`,
    at: new Date(started).toISOString(),
  };
}

/**
 * Logs a request of a known key that was refused before admission reserved anything (a limit, the
 * key's scope, its rate): no upstream, no cost, but the key's history shows it. Never fails the answer.
 */
export async function logRefusal(
  rt: ProxyRuntime,
  call: Pick<ProxiedCall, 'req' | 'route' | 'project' | 'auth'> & { model?: string | undefined },
  refusal: { keyId: string; status: number; started: number },
): Promise<void> {
  try {
    await rt.deps.requestLog.put({
      ...callFields(call, { keyId: refusal.keyId, teamId: call.auth.teamId }, refusal.started),
      ...(call.model === undefined ? {} : { model: call.model }),
      status: refusal.status,
      inputTokens: 0,
      outputTokens: 0,
      costMicros: 0,
      durationMs: rt.now() - refusal.started,
      disconnected: false,
    });
  } catch (err) {
    logger.warn('could not log a refused request', {
      requestId: call.req.requestId,
      keyId: refusal.keyId,
      error: (err as Error).name,
    });
  }
}

/** Settles one admitted request; later calls do nothing. */
export type Settle = (end: Ending) => Promise<void>;

/**
 * The settlement of one admitted request. Runs once, whatever its end; its own failures are logged,
 * never shown to the client.
 */
export function settler(
  rt: ProxyRuntime,
  call: Pick<ProxiedCall, 'req' | 'route' | 'project'>,
  admission: Admission,
  started: number,
): Settle {
  const { deps } = rt;
  const { req } = call;
  let done = false;
  return async (end) => {
    if (done) return;
    done = true;
    const usage = end.usage;
    const micros = usage === undefined ? 0 : costMicros(usage, end.price);
    const served =
      end.slug === undefined
        ? undefined
        : { model: `${end.slug.provider}/${end.slug.model}`, provider: end.slug.provider };
    const entry = {
      ...callFields(call, admission, started),
      ...served,
      status: end.status,
      inputTokens: usage?.inputTokens ?? 0,
      outputTokens: usage?.outputTokens ?? 0,
      costMicros: micros,
      ...(end.firstByteAt === undefined ? {} : { ttfbMs: end.firstByteAt - started }),
      durationMs: rt.now() - started,
      disconnected: end.disconnected === true,
    };
    // Three different items, none waiting on another: written at once, so the instance is free sooner,
    // and one failing loses nothing the others record.
    const writes = {
      counters: deps.meter.settle(
        admission,
        micros,
        usage === undefined ? 0 : usage.inputTokens + usage.outputTokens,
      ),
      usage:
        usage === undefined || served === undefined
          ? Promise.resolve()
          : deps.usage.record({
              keyId: admission.keyId,
              model: served.model,
              usage,
              at: new Date(started),
              requestId: req.requestId,
            }),
      requestLog: deps.requestLog.put(entry),
    };
    const results = await Promise.allSettled(Object.values(writes));
    Object.keys(writes).forEach((write, i) => {
      const result = results[i];
      if (result?.status !== 'rejected') return;
      const err = result.reason as Error;
      // Never silent. Counters not settled keep the reservation until it expires and is billed at its
      // estimate (see metering.ts); a day row or log entry not written is the amount named here.
      logger.error('settlement failed', {
        requestId: req.requestId,
        keyId: admission.keyId,
        write,
        costMicros: micros,
        error: err.name,
        cause: (err.cause as Error | undefined)?.name,
      });
      deps.metrics?.settlementFailed?.();
    });
    if (end.slug !== undefined && usage !== undefined) {
      deps.metrics?.upstream({
        provider: end.slug.provider,
        model: end.slug.model,
        inputTokens: usage.inputTokens,
        outputTokens: usage.outputTokens,
        costMicros: micros,
        ttfbMs: end.firstByteAt === undefined ? undefined : end.firstByteAt - started,
        upstreamMs: end.upstreamMs,
      });
    }
  };
}
