/** Server-sent events framing: what the gateway writes (upstream streams are read by sse-relay.ts). */
import type { SseEvent } from '../providers/types.ts';

/** Frames one event for the wire: optional `event:`/`id:` lines, one `data:` line per data line, blank line. */
export function frameSse(event: SseEvent): string {
  let out = '';
  if (event.event !== undefined && event.event !== 'message') out += `event: ${event.event}\n`;
  if (event.id !== undefined) out += `id: ${event.id}\n`;
  for (const line of event.data.split('\n')) out += `data: ${line}\n`;
  return `${out}\n`;
}

/** An SSE comment line; ignored by clients, keeps idle connections open. */
export const SSE_HEARTBEAT = ': keep-alive\n\n';
