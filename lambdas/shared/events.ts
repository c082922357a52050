/** EventBridge events the functions receive besides their main trigger. */
import type { EventBridgeEvent } from 'aws-lambda';

/** What an EventBridge schedule rule delivers (the local runtime may add a `detail`). */
export type ScheduledEvent<D = Record<string, unknown>> = EventBridgeEvent<'Scheduled Event', D>;

/** True for an EventBridge schedule's event, whatever else the function is invoked with. */
export function isScheduledEvent<D>(event: unknown): event is ScheduledEvent<D> {
  return (
    typeof event === 'object' &&
    event !== null &&
    (event as { 'detail-type'?: unknown })['detail-type'] === 'Scheduled Event'
  );
}
