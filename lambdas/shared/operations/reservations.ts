/**
 * Reconciling reservations, under `tollgate reservations reconcile`, `POST /admin/reservations/reconcile`
 * and the hourly schedule: a reservation whose request never settled (its settlement failed, its instance
 * died) is billed at its estimate once expired. Admissions do this on the counters they touch; this does it
 * for counters no admission touches any more, so reports stop showing money as merely reserved.
 */
import { operation } from './schema.ts';

/** Bills every expired reservation at its estimate; answers how many it reconciled. */
export const reconcileReservations = operation('reconcileReservations', {}, async (stores) => ({
  reconciled: await stores.meter.sweep(),
}));
