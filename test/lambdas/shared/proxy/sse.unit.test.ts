/** Server-sent events both ways: framing what the gateway sends, parsing what upstreams send. */
import { describe, expect, it } from 'vitest';
import { frameSse, parseSse } from '#shared/proxy/sse.ts';

/** A byte stream delivering `chunks` one by one, as a network would. */
function bytes(chunks: string[]): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  return new ReadableStream({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(encoder.encode(chunk));
      controller.close();
    },
  });
}

describe('frameSse', () => {
  it('writes event and id lines, one data line per line of data, and a blank line', () => {
    expect(frameSse({ event: 'error', id: '7', data: 'a\nb' })).toBe(
      'event: error\nid: 7\ndata: a\ndata: b\n\n',
    );
  });

  it('leaves out the default message event', () => {
    expect(frameSse({ event: 'message', data: '{}' })).toBe('data: {}\n\n');
  });
});

describe('parseSse', () => {
  it('yields each event once complete, across chunk boundaries, ignoring comments', async () => {
    // Prepare
    const upstream = bytes(['event: message_start\nda', 'ta: {"a":1}\n\n: ping\n\n', 'data: [DONE]\n\n']);

    // Act
    const events = [];
    for await (const event of parseSse(upstream)) events.push(event);

    // Assess
    expect(events.map((e) => [e.event, e.data])).toEqual([
      ['message_start', '{"a":1}'],
      [undefined, '[DONE]'],
    ]);
  });

  it('round-trips what frameSse writes', async () => {
    // Prepare
    const sent = { event: 'error', data: 'line 1\nline 2' };

    // Act
    const events = [];
    for await (const event of parseSse(bytes([frameSse(sent)]))) events.push(event);

    // Assess
    expect(events).toEqual([{ event: 'error', id: undefined, data: 'line 1\nline 2' }]);
  });
});
