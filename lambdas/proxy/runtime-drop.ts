/**
 * The Node.js runtime interface client (aws-lambda-ric 4.0.2) opens each streamed response as an HTTP request
 * to the Runtime API and keeps a promise of that request's response headers that nothing awaits. When the
 * service drops the connection because the caller left, the request errors ("socket hang up", ECONNRESET),
 * that promise rejects unhandled, and Node ends the process: the invocation never settles its bill and the
 * next one pays a cold start. Only that rejection is tolerated here — as a logged client departure, which the
 * response stream's own `error` event already reported to the request (`client-signal.ts`); any other
 * unhandled rejection still ends the process, as it would without this.
 */
import { logger } from '#shared/log.ts';

const DROPPED = new Set(['ECONNRESET', 'EPIPE']);

/** True for the error of a dropped Runtime API connection. */
export function isDroppedRuntimeConnection(reason: unknown): boolean {
  if (!(reason instanceof Error)) return false;
  const code = (reason as Error & { code?: unknown }).code;
  return reason.message === 'socket hang up' || (typeof code === 'string' && DROPPED.has(code));
}

/** Installs the process-wide handler once; later calls do nothing. */
export function tolerateDroppedRuntimeConnections(): void {
  if (process.listeners('unhandledRejection').some((l) => l === onUnhandled)) return;
  process.on('unhandledRejection', onUnhandled);
}

function onUnhandled(reason: unknown): void {
  if (isDroppedRuntimeConnection(reason)) {
    logger.warn('the runtime lost a streamed response connection: the caller left', {
      error: (reason as Error).message,
    });
    return;
  }
  // What Node does by default with an unhandled rejection: end the process.
  throw reason;
}
