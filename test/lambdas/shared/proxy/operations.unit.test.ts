/** What each proxied operation reads from a request and sends upstream, and how a late error is framed. */
import { describe, expect, it } from 'vitest';
import { InvalidRequestError, UpstreamTimeoutError } from '#shared/errors.ts';
import { OPERATIONS, streamErrorEvent } from '#shared/proxy/operations.ts';

const chat = OPERATIONS.chatCompletions;
const gemini = OPERATIONS.geminiModel;

describe('chat completions', () => {
  it('reads the model and whether it streams, after checking the body', () => {
    expect(chat?.read({ model: 'a/b', messages: [{}], stream: true }, {}, {})).toEqual({
      model: 'a/b',
      stream: true,
      upstream: 'chatCompletions',
    });
    expect(() => chat?.read({ model: 'a/b' }, {}, {})).toThrow(InvalidRequestError);
  });

  it('asks a stream for its usage report and hides that chunk from a client that did not ask', () => {
    // Act
    const payload = chat?.payload({ model: 'a/b', messages: [{}], stream: true }, 'b', true);

    // Assess
    expect(payload).toEqual({
      body: { model: 'b', messages: [{}], stream: true, stream_options: { include_usage: true } },
      hideUsageChunk: true,
    });
  });

  it("passes a client's own usage request through, and whole answers untouched but for the model", () => {
    const asked = { model: 'a/b', messages: [{}], stream: true, stream_options: { include_usage: true } };
    expect(chat?.payload(asked, 'b', true)).toEqual({
      body: { ...asked, model: 'b' },
      hideUsageChunk: false,
    });
    expect(chat?.payload({ model: 'a/b', messages: [{}] }, 'b', false)).toEqual({
      body: { model: 'b', messages: [{}] },
      hideUsageChunk: false,
    });
  });
});

describe('gemini generateContent', () => {
  const body = { contents: [{ role: 'user' }] };

  it('reads the model and action from the path', () => {
    expect(gemini?.read(body, { model: 'gemini-2.5-flash:generateContent' }, {})).toEqual({
      model: 'gemini-2.5-flash',
      stream: false,
      upstream: 'generateContent',
    });
    expect(gemini?.read(body, { model: 'g%2Fx:streamGenerateContent' }, { alt: 'sse' })).toEqual({
      model: 'g/x',
      stream: true,
      upstream: 'streamGenerateContent',
    });
  });

  it.each([
    [{ model: 'gemini-2.5-flash' }, {}, 'The path must be'],
    [{ model: ':generateContent' }, {}, 'The path must be'],
    [{ model: 'g:embedContent' }, {}, 'The path must be'],
    [{ model: 'g:streamGenerateContent' }, {}, '?alt=sse'],
  ])('refuses %j %j with a 400 that says what to send', (params, query, message) => {
    expect(() => gemini?.read(body, params, query)).toThrow(message);
  });

  it("sends the client's body untouched: the model travels in the path", () => {
    expect(gemini?.payload(body, 'other', true)).toEqual({ body, hideUsageChunk: false });
  });
});

describe('streamErrorEvent', () => {
  it("frames an error after the first byte as each API's own stream error event", () => {
    // Prepare
    const error = new UpstreamTimeoutError();

    // Act
    const anthropic = streamErrorEvent('anthropic', error);
    const openai = streamErrorEvent('openai', error);

    // Assess
    expect(anthropic.startsWith('event: error\ndata: {"type":"error"')).toBe(true);
    expect(openai.startsWith('data: {"error":{')).toBe(true);
    expect(JSON.parse(openai.slice('data: '.length))).toEqual(error.toWire('openai'));
  });
});
