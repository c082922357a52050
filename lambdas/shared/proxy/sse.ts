/** Server-sent events framing and parsing for streams in both directions. */
import { EventSourceParserStream } from 'eventsource-parser/stream';
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

/** Parses an upstream byte stream into events, one per upstream event, as soon as each is complete. */
export function parseSse(body: ReadableStream<Uint8Array>): ReadableStream<SseEvent> {
  return body
    .pipeThrough(new TextDecoderStream())
    .pipeThrough(new EventSourceParserStream())
    .pipeThrough(
      new TransformStream({
        transform(message, controller) {
          controller.enqueue({ event: message.event, id: message.id, data: message.data });
        },
      }),
    );
}
