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

/** Settles one admitted request; later calls do nothing. */
export type Settle = (end: Ending) => Promise<void>;

/**
 * The settlement of one admitted request. Runs once, whatever its end; its own failures are logged,
 * never shown to the client.
 */
export function settler(
  rt: ProxyRuntime,
  call: Pick<ProxiedCall, 'req' | 'route'>,
  admission: Admission,
  started: number,
): Settle {
  const { deps } = rt;
  const { req, route } = call;
  let done = false;
  return async (end) => {
    if (done) return;
    done = true;
    const usage = end.usage;
    const micros = usage === undefined ? 0 : costMicros(usage, end.price);
    try {
      await deps.meter.settle(
        admission,
        micros,
        usage === undefined ? 0 : usage.inputTokens + usage.outputTokens,
      );
      if (usage !== undefined && end.slug !== undefined) {
        await deps.usage.record(
          admission.keyId,
          `${end.slug.provider}/${end.slug.model}`,
          usage,
          new Date(started),
        );
      }
      await deps.requestLog.put({
        requestId: req.requestId,
        keyId: admission.keyId,
        ...(admission.teamId === undefined ? {} : { teamId: admission.teamId }),
        route: `${req.method} ${route.path}`,
        ...(end.slug === undefined
          ? {}
          : { model: `${end.slug.provider}/${end.slug.model}`, provider: end.slug.provider }),
        status: end.status,
        inputTokens: usage?.inputTokens ?? 0,
        outputTokens: usage?.outputTokens ?? 0,
        costMicros: micros,
        ...(end.firstByteAt === undefined ? {} : { ttfbMs: end.firstByteAt - started }),
        durationMs: rt.now() - started,
        disconnected: end.disconnected === true,
        at: new Date(started).toISOString(),
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
    } catch (err) {
      // Never silent: the amount is in the log, and the reservations are billed at their estimate
      // once they expire (see metering.ts).
      logger.error('settlement failed', {
        requestId: req.requestId,
        keyId: admission.keyId,
        costMicros: micros,
        error: (err as Error).name,
        cause: ((err as Error).cause as Error | undefined)?.name,
      });
      deps.metrics?.settlementFailed?.();
    }
  };
}
