/**
 * The streamed body over events too large to hold: each API's huge events reach the client intact, their
 * usage and content are metered, and a stream cut in the middle of one bills the content that went out.
 */
import { describe, expect, it } from 'vitest';
import { adapterFor } from '#shared/providers/index.ts';
import { type StreamOutcome, streamBody } from '#shared/proxy/stream.ts';

const CHUNK = 65_536;
const BIG = 'w'.repeat(1_500_000);

/** An upstream body sending `text` in network-sized chunks, then ending or breaking off. */
function upstream(text: string, options: { breakOff?: boolean } = {}): ReadableStream<Uint8Array> {
  const bytes = new TextEncoder().encode(text);
  let at = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (at >= bytes.length) {
        if (options.breakOff === true) controller.error(new Error('socket hang up'));
        else controller.close();
        return;
      }
      controller.enqueue(bytes.subarray(at, at + CHUNK));
      at += CHUNK;
    },
  });
}

/** Runs a body to its end (or `readUpTo` bytes, then leaves); returns what the client read and the outcome. */
async function run(
  type: 'openai' | 'anthropic' | 'gemini',
  body: ReadableStream<Uint8Array>,
  readUpTo = Number.POSITIVE_INFINITY,
) {
  let outcome: StreamOutcome | undefined;
  const stream = streamBody({
    upstream: body,
    adapter: adapterFor(type),
    abort: new AbortController(),
    shape: type,
    hideUsageChunk: false,
    timings: { heartbeatMs: 60_000, idleTimeoutMs: 120_000 },
    onEnd: async (end) => {
      outcome = end;
    },
  });
  const reader = stream.getReader();
  const decoder = new TextDecoder();
  let text = '';
  let writes = 0;
  for (;;) {
    if (text.length >= readUpTo) {
      await reader.cancel('client left');
      break;
    }
    const next = await reader.read();
    if (next.done) break;
    writes += 1;
    text += decoder.decode(next.value, { stream: true });
  }
  return { text, writes, outcome };
}

const sse = (data: unknown, event?: string) =>
  `${event === undefined ? '' : `event: ${event}\n`}data: ${JSON.stringify(data)}\n\n`;

describe('streamBody with events larger than the hold', () => {
  it('forwards a huge OpenAI chunk intact and reads the usage of the stream', async () => {
    // Prepare
    const text =
      sse({ choices: [{ index: 0, delta: { content: BIG } }] }) +
      sse({ choices: [], usage: { prompt_tokens: 4, completion_tokens: 321 } }) +
      'data: [DONE]\n\n';

    // Act
    const { text: read, writes, outcome } = await run('openai', upstream(text));

    // Assess: sent as it came, in many writes, never one write for the whole event.
    expect(read).toBe(text);
    expect(writes).toBeGreaterThan(BIG.length / CHUNK);
    expect(outcome).toMatchObject({
      usage: { inputTokens: 4, outputTokens: 321 },
      contentEvents: 1,
      disconnected: false,
    });
  });

  it('reads Anthropic and Gemini usage around huge content', async () => {
    // Prepare
    const anthropic =
      sse(
        { type: 'message_start', message: { usage: { input_tokens: 9, output_tokens: 1 } } },
        'message_start',
      ) +
      sse(
        { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: BIG } },
        'content_block_delta',
      ) +
      sse({ type: 'message_delta', usage: { output_tokens: 77 } }, 'message_delta');
    // Gemini reports its usage in the very event that carries the text, after it.
    const gemini = sse({
      candidates: [{ content: { parts: [{ text: BIG }], role: 'model' } }],
      usageMetadata: { promptTokenCount: 2, candidatesTokenCount: 55, thoughtsTokenCount: 5 },
    });

    // Act
    const a = await run('anthropic', upstream(anthropic));
    const g = await run('gemini', upstream(gemini));

    // Assess
    expect(a.text).toBe(anthropic);
    expect(a.outcome).toMatchObject({ usage: { inputTokens: 9, outputTokens: 77 }, contentEvents: 1 });
    expect(g.text).toBe(gemini);
    expect(g.outcome).toMatchObject({ usage: { inputTokens: 2, outputTokens: 60 }, contentEvents: 1 });
  });

  it('bills the content of a huge event the client left in the middle of', async () => {
    // Prepare
    const text = sse(
      { type: 'content_block_delta', delta: { type: 'text_delta', text: BIG } },
      'content_block_delta',
    );

    // Act
    const { outcome } = await run('anthropic', upstream(text), 300_000);

    // Assess
    expect(outcome).toMatchObject({ disconnected: true, contentEvents: 1 });
  });

  it('closes a huge event the upstream broke off in, then sends the error event on its own', async () => {
    // Prepare: the upstream breaks after part of the event.
    const text = sse({ choices: [{ delta: { content: BIG } }] }).slice(0, 400_000);

    // Act
    const { text: read, outcome } = await run('openai', upstream(text, { breakOff: true }));

    // Assess
    expect(read.startsWith(text)).toBe(true);
    expect(read.slice(text.length)).toMatch(/^\n\ndata: \{"error":/);
    expect(outcome).toMatchObject({ contentEvents: 1, error: { code: 'upstream_error' } });
  });
});
