/**
 * The relay re-frames upstream events as eventsource-parser and frameSse did, one write per event, and
 * streams an event too large to hold piece by piece: forwarded intact, metered from a bounded skeleton,
 * nothing of it kept once it has passed.
 */
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { frameSse } from '#shared/proxy/sse.ts';
import { type RelayMeter, SseRelay } from '#shared/proxy/sse-relay.ts';

/** A meter that keeps everything and records what it was given. */
function recorder(drop: (data: unknown) => boolean = () => false) {
  const seen = { events: [] as unknown[], partial: [] as unknown[] };
  const meter: RelayMeter = {
    event: (data) => {
      seen.events.push(data);
      return !drop(data);
    },
    partial: (data) => {
      seen.partial.push(data);
    },
  };
  return { seen, meter };
}

/** Feeds `chunks` one by one, taking every write after each; returns the writes. */
function relayAll(relay: SseRelay, chunks: string[]): string[] {
  const writes: string[] = [];
  for (const chunk of chunks) {
    relay.push(chunk);
    for (let out = relay.take(); out !== undefined; out = relay.take()) writes.push(out);
  }
  return writes;
}

/** The events eventsource-parser reads from a text. */
function parseEvents(text: string): EventSourceMessage[] {
  const events: EventSourceMessage[] = [];
  const parser = createParser({ onEvent: (event) => events.push(event) });
  parser.feed(text);
  return events;
}

/** `text` cut at `cuts`. */
function chunked(text: string, cuts: number[]): string[] {
  const at = [...new Set(cuts.map((c) => c % (text.length + 1)))].sort((a, b) => a - b);
  return [0, ...at].map((from, i) => text.slice(from, at[i] ?? text.length)).filter((c) => c !== '');
}

/** Random SSE text: every kind of line, every line ending, blank lines between some. */
const sseText = fc
  .array(
    fc.tuple(
      fc.oneof(
        fc.string().map((v) => `data: ${v.replace(/[\r\n]/g, '')}`),
        fc.string({ maxLength: 4 }).map((v) => `data:${v.replace(/[\r\n]/g, '')}`),
        fc.constantFrom('data', 'event', 'id', 'event:', 'id: 7', 'retry: 10', ': ping', 'data: {"a":1}'),
        fc.constantFrom('event: message_start', 'event: message', 'eventful: x', 'id: a\u0000b', 'x'),
      ),
      fc.constantFrom('\n', '\r\n', '\r', '\n\n', '\r\n\r\n'),
    ),
    { maxLength: 30 },
  )
  .map((lines) => lines.map(([line, end]) => line + end).join(''));

describe('SseRelay', () => {
  it('writes each event as frameSse framed what eventsource-parser read, one write per event', () => {
    fc.assert(
      fc.property(sseText, fc.array(fc.nat(), { maxLength: 10 }), (text, cuts) => {
        const writes = relayAll(new SseRelay(recorder().meter), chunked(text, cuts));
        expect(writes).toEqual(parseEvents(text).map((e) => frameSse(e)));
      }),
      { numRuns: 1000 },
    );
  });

  it('streams events past the hold so that a client reads the same events', () => {
    const normal = (events: EventSourceMessage[]) =>
      events.map((e) => ({ event: e.event ?? 'message', id: e.id, data: e.data }));
    fc.assert(
      fc.property(sseText, fc.array(fc.nat(), { maxLength: 10 }), (text, cuts) => {
        const writes = relayAll(new SseRelay(recorder().meter, { holdChars: 8 }), chunked(text, cuts));
        expect(normal(parseEvents(writes.join('')))).toEqual(normal(parseEvents(text)));
      }),
      { numRuns: 1000 },
    );
  });

  it('forwards a huge event split across many chunks intact, reads its usage, and keeps none of it', () => {
    // Prepare: a 4 MB OpenAI chunk in 64 KiB pieces, then a small one.
    const huge = JSON.stringify({
      choices: [{ index: 0, delta: { content: 'z'.repeat(4_000_000) } }],
      usage: { prompt_tokens: 5, completion_tokens: 900 },
    });
    const text = `data: ${huge}\n\ndata: [DONE]\n\n`;
    const chunks = chunked(
      text,
      Array.from({ length: Math.ceil(text.length / 65_536) }, (_, i) => i * 65_536),
    );
    const { seen, meter } = recorder();
    const relay = new SseRelay(meter);

    // Act: take what each chunk releases before the next arrives, as the proxy does.
    const writes: string[] = [];
    let mostBuffered = 0;
    for (const chunk of chunks) {
      relay.push(chunk);
      mostBuffered = Math.max(mostBuffered, relay.buffered);
      for (let out = relay.take(); out !== undefined; out = relay.take()) writes.push(out);
    }

    // Assess: bytes left as they came, one write per chunk at most, and none held past its chunk.
    expect(writes.join('')).toBe(text);
    expect(writes.length).toBeGreaterThan(chunks.length - 2);
    expect(mostBuffered).toBeLessThanOrEqual(2 * 65_536 + 64);
    expect(relay.buffered).toBe(0);
    expect(seen.events).toEqual([
      {
        choices: [{ index: 0, delta: { content: 'z'.repeat(1024) } }],
        usage: { prompt_tokens: 5, completion_tokens: 900 },
      },
      undefined,
    ]);
  });

  it('drops a held event its meter refuses, never one already streamed', () => {
    // Prepare
    const usage = (pad: number) =>
      JSON.stringify({ choices: [], usage: { prompt_tokens: 1 }, pad: 'p'.repeat(pad) });
    const relay = new SseRelay(
      recorder((data) => (data as { choices?: unknown[] }).choices?.length === 0).meter,
      {
        holdChars: 100,
      },
    );

    // Act
    const writes = relayAll(relay, [`data: ${usage(1)}\n\ndata: ${usage(200)}\n\n`]);

    // Assess
    expect(writes.join('')).toBe(`data: ${usage(200)}\n\n`);
  });

  it('meters the content of an event cut while streamed, and closes it before anything else is sent', () => {
    // Prepare
    const { seen, meter } = recorder();
    const relay = new SseRelay(meter, { holdChars: 10 });
    const writes = relayAll(relay, [
      'event: content_block_delta\ndata: {"type":"content_block_delta",',
      '"delta":{"text":"abc',
    ]);

    // Act
    const heartbeat = relay.heartbeat();
    const closer = relay.cut();

    // Assess
    expect(writes.join('')).toBe(
      'event: content_block_delta\ndata: {"type":"content_block_delta","delta":{"text":"abc',
    );
    expect(heartbeat).toBe('');
    expect(closer).toBe('\n\n');
    expect(seen.partial).toEqual([{ type: 'content_block_delta', delta: { text: 'abc' } }]);
    expect(seen.events).toEqual([]);
    expect(relay.heartbeat()).toBe(': keep-alive\n\n');
  });

  it('sends a keep-alive comment line, not a blank line, between the lines of a streamed event', () => {
    // Prepare
    const relay = new SseRelay(recorder().meter, { holdChars: 4 });
    relayAll(relay, ['data: 0123456789\n']);

    // Act + Assess
    expect(relay.heartbeat()).toBe(': keep-alive\n');
    expect(relay.cut()).toBe('\n');
  });
});
