/**
 * The echo provider's answers in each API's own wire format, whole and streamed, exactly as the official
 * SDKs parse them: OpenAI chat completions and responses, Anthropic messages, Gemini generateContent.
 */
import type { EchoScript } from './echo-script.ts';
import type { SseEvent, UpstreamOperation } from './types.ts';

/** A streamed answer: events before the content, one group per content piece, events after it. */
export interface EchoStream {
  head: SseEvent[];
  piece(text: string, index: number): SseEvent[];
  tail: SseEvent[];
}

/** One operation's answers. */
export interface EchoFormat {
  whole(script: EchoScript, model: string): unknown;
  stream?(script: EchoScript, model: string): EchoStream;
}

const json = (data: unknown, event?: string): SseEvent => ({ data: JSON.stringify(data), event });
const ID = 'echo-0001';
const CREATED = 1_700_000_000;
const textOf = (script: EchoScript): string => script.pieces.join('');

const chatUsage = (s: EchoScript) => ({
  prompt_tokens: s.inputTokens,
  completion_tokens: s.outputTokens,
  total_tokens: s.inputTokens + s.outputTokens,
});

const chatCompletions: EchoFormat = {
  whole: (s, model) => ({
    id: `chatcmpl-${ID}`,
    object: 'chat.completion',
    created: CREATED,
    model,
    choices: [
      {
        index: 0,
        message: { role: 'assistant', content: textOf(s), refusal: null },
        logprobs: null,
        finish_reason: 'stop',
      },
    ],
    usage: chatUsage(s),
  }),
  stream(s, model) {
    const chunk = (choices: unknown[], extra: Record<string, unknown> = {}) =>
      json({
        id: `chatcmpl-${ID}`,
        object: 'chat.completion.chunk',
        created: CREATED,
        model,
        choices,
        ...extra,
      });
    return {
      head: [chunk([{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }])],
      piece: (text) => [chunk([{ index: 0, delta: { content: text }, finish_reason: null }])],
      // Usage goes out always; the gateway hides it from clients that did not ask for it.
      tail: [
        chunk([{ index: 0, delta: {}, finish_reason: 'stop' }]),
        chunk([], { usage: chatUsage(s) }),
        { data: '[DONE]' },
      ],
    };
  },
};

function response(s: EchoScript, model: string, status: 'in_progress' | 'completed') {
  const done = status === 'completed';
  return {
    id: `resp_${ID}`,
    object: 'response',
    created_at: CREATED,
    status,
    model,
    output: done ? [outputMessage(textOf(s))] : [],
    usage: done
      ? {
          input_tokens: s.inputTokens,
          input_tokens_details: { cached_tokens: 0 },
          output_tokens: s.outputTokens,
          output_tokens_details: { reasoning_tokens: 0 },
          total_tokens: s.inputTokens + s.outputTokens,
        }
      : null,
    error: null,
    incomplete_details: null,
  };
}

const outputMessage = (text: string) => ({
  type: 'message',
  id: `msg_${ID}`,
  status: 'completed',
  role: 'assistant',
  content: [{ type: 'output_text', text, annotations: [] }],
});

const responses: EchoFormat = {
  whole: (s, model) => response(s, model, 'completed'),
  stream(s, model) {
    let seq = 0;
    const event = (type: string, data: Record<string, unknown>): SseEvent =>
      json({ type, sequence_number: seq++, ...data }, type);
    const part = { type: 'output_text', text: '', annotations: [] };
    const item = { ...outputMessage(''), status: 'in_progress', content: [] };
    const at = { item_id: `msg_${ID}`, output_index: 0, content_index: 0 };
    // The sequence numbers are taken in wire order: head, then pieces, then tail.
    const head = [
      event('response.created', { response: response(s, model, 'in_progress') }),
      event('response.output_item.added', { output_index: 0, item }),
      event('response.content_part.added', { ...at, part }),
    ];
    return {
      head,
      piece: (text) => [event('response.output_text.delta', { ...at, delta: text })],
      get tail() {
        const text = textOf(s);
        return [
          event('response.output_text.done', { ...at, text }),
          event('response.content_part.done', { ...at, part: { ...part, text } }),
          event('response.output_item.done', { output_index: 0, item: outputMessage(text) }),
          event('response.completed', { response: response(s, model, 'completed') }),
        ];
      },
    };
  },
};

const embeddings: EchoFormat = {
  // One fixed unit vector: enough for a client to parse, and equal for equal inputs.
  whole: (s, model) => ({
    object: 'list',
    data: [{ object: 'embedding', index: 0, embedding: [1, 0, 0, 0, 0, 0, 0, 0] }],
    model,
    usage: { prompt_tokens: s.inputTokens, total_tokens: s.inputTokens },
  }),
};

const anthropicMessage = (s: EchoScript, model: string, text: string | undefined) => ({
  id: `msg_${ID}`,
  type: 'message',
  role: 'assistant',
  model,
  content: text === undefined ? [] : [{ type: 'text', text }],
  stop_reason: text === undefined ? null : 'end_turn',
  stop_sequence: null,
  usage: { input_tokens: s.inputTokens, output_tokens: text === undefined ? 1 : s.outputTokens },
});

const messages: EchoFormat = {
  whole: (s, model) => anthropicMessage(s, model, textOf(s)),
  stream(s, model) {
    const event = (type: string, data: Record<string, unknown>) => json({ type, ...data }, type);
    return {
      head: [
        event('message_start', { message: anthropicMessage(s, model, undefined) }),
        event('content_block_start', { index: 0, content_block: { type: 'text', text: '' } }),
        event('ping', {}),
      ],
      piece: (text) => [event('content_block_delta', { index: 0, delta: { type: 'text_delta', text } })],
      tail: [
        event('content_block_stop', { index: 0 }),
        event('message_delta', {
          delta: { stop_reason: 'end_turn', stop_sequence: null },
          usage: { output_tokens: s.outputTokens },
        }),
        event('message_stop', {}),
      ],
    };
  },
};

const countTokens: EchoFormat = { whole: (s) => ({ input_tokens: s.inputTokens }) };

const geminiChunk = (s: EchoScript, model: string, text: string, last: boolean) => ({
  candidates: [
    {
      content: { role: 'model', parts: [{ text }] },
      ...(last ? { finishReason: 'STOP' } : {}),
      index: 0,
    },
  ],
  usageMetadata: {
    promptTokenCount: s.inputTokens,
    candidatesTokenCount: last ? s.outputTokens : 0,
    totalTokenCount: s.inputTokens + (last ? s.outputTokens : 0),
  },
  modelVersion: model,
  responseId: ID,
});

const generateContent: EchoFormat = {
  whole: (s, model) => geminiChunk(s, model, textOf(s), true),
  stream: (s, model) => ({
    head: [],
    // Gemini closes a stream with its last content chunk; the usage there is final.
    piece: (text, index) => [json(geminiChunk(s, model, text, index === s.pieces.length - 1))],
    tail: [],
  }),
};

/** The echo formats by upstream operation. */
export const ECHO_FORMATS: Record<UpstreamOperation, EchoFormat> = {
  chatCompletions,
  responses,
  embeddings,
  messages,
  countTokens,
  generateContent,
  streamGenerateContent: generateContent,
};
