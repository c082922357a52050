/** The management API's error boundary: a route's answer as an API Gateway result, anything unexpected a bare 500. */
import type { APIGatewayProxyResult } from 'aws-lambda';
import { type AdminDeps, type AdminRequest, handleAdmin } from '#shared/admin/core.ts';
import type { ScheduledEvent } from '#shared/events.ts';
import { logger } from '#shared/log.ts';
import { reconcileReservations } from '#shared/operations/reservations.ts';

/**
 * The hourly reconciliation: the same operation as `POST /admin/reservations/reconcile`, attributed to the
 * schedule rule. A failure is thrown, so EventBridge retries it and the function's error metric shows it.
 */
export async function reconcileOnSchedule(
  event: ScheduledEvent,
  deps: AdminDeps,
): Promise<{ reconciled: number }> {
  const actor = { id: event.resources[0] ?? 'aws.events' };
  const result = await reconcileReservations.prepare({})(deps.stores(actor));
  logger.info('reservations reconciled', { ...result, rule: actor.id });
  return result;
}

/** Runs one management request; anything unexpected is a 500 without details. */
export async function serveAdmin(req: AdminRequest, deps: AdminDeps): Promise<APIGatewayProxyResult> {
  try {
    const response = await handleAdmin(req, deps);
    return { statusCode: response.status, headers: response.headers, body: String(response.body) };
  } catch (err) {
    logger.error('management API failure', {
      requestId: req.requestId,
      error: (err as Error).name,
      message: (err as Error).message,
    });
    return {
      statusCode: 500,
      headers: { 'content-type': 'application/json', 'x-request-id': req.requestId },
      body: JSON.stringify({ error: { code: 'internal_error', message: 'Internal error.' } }),
    };
  }
}
