/**
 * OpenAI's Responses API for the OpenAI fake: a `response` object with `output` items (a message with
 * `output_text`, or a `function_call`) and usage in input/output tokens; streamed as named SSE events
 * (`response.created` … `response.output_text.delta` … `response.completed`) with sequence numbers.
 */
import type { ServerResponse } from 'node:http';
import {
  answerWords,
  type RecordedRequest,
  type ScriptedToolCall,
  type Streamer,
  sse,
} from './upstream-base.ts';

const INPUT_TOKENS = 11;

interface ResponsesRequest {
  model: string;
  stream?: boolean;
  input?: string | Array<{ type?: string; role?: string; output?: unknown }>;
  tools?: Array<{ type?: string; name?: string }>;
}

/** What a Responses call needs from the fake. */
export interface ResponsesCall {
  req: RecordedRequest;
  res: ServerResponse;
  stream: Streamer;
  state: { words: string[]; tool: ScriptedToolCall | undefined };
  sequence: number;
}

/** Serves `POST /v1/responses`. */
export async function serveResponses(call: ResponsesCall): Promise<void> {
  const { res, state } = call;
  const request = JSON.parse(call.req.body) as ResponsesRequest;
  const last = Array.isArray(request.input) ? request.input.at(-1) : undefined;
  const toolResult = last?.type === 'function_call_output' ? last.output : undefined;
  const tool =
    state.tool !== undefined &&
    toolResult === undefined &&
    request.tools?.some((t) => t.name === state.tool?.name)
      ? state.tool
      : undefined;
  const words = answerWords(state.words, toolResult);
  const id = `resp_${call.sequence}`;
  const itemId = tool === undefined ? `msg_${call.sequence}` : `fc_${call.sequence}`;
  const text = words.join('');
  const outputTokens = tool === undefined ? words.length : 5;
  const item =
    tool === undefined
      ? {
          id: itemId,
          type: 'message',
          status: 'completed',
          role: 'assistant',
          content: [{ type: 'output_text', annotations: [], logprobs: [], text }],
        }
      : {
          id: itemId,
          type: 'function_call',
          status: 'completed',
          call_id: `call_${call.sequence}`,
          name: tool.name,
          arguments: JSON.stringify(tool.args),
        };
  const response = (status: string, output: unknown[], usage: unknown) => ({
    id,
    object: 'response',
    created_at: 1_763_900_000,
    status,
    error: null,
    incomplete_details: null,
    instructions: null,
    max_output_tokens: null,
    model: request.model,
    output,
    parallel_tool_calls: true,
    previous_response_id: null,
    reasoning: { effort: null, summary: null },
    store: false,
    temperature: 1,
    text: { format: { type: 'text' } },
    tool_choice: 'auto',
    tools: [],
    top_p: 1,
    truncation: 'disabled',
    usage,
    user: null,
    metadata: {},
  });
  const usage = {
    input_tokens: INPUT_TOKENS,
    input_tokens_details: { cached_tokens: 0 },
    output_tokens: outputTokens,
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: INPUT_TOKENS + outputTokens,
  };
  if (request.stream !== true) {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(response('completed', [item], usage)));
    return;
  }
  let sequence = 0;
  const event = (type: string, data: Record<string, unknown>): string =>
    sse({ type, sequence_number: sequence++, ...data }, type);
  const at = { item_id: itemId, output_index: 0 };
  const head = [
    event('response.created', { response: response('in_progress', [], null) }),
    event('response.in_progress', { response: response('in_progress', [], null) }),
  ];
  if (tool !== undefined) {
    const args = JSON.stringify(tool.args);
    await call.stream(
      res,
      [
        ...head,
        event('response.output_item.added', {
          output_index: 0,
          item: { ...item, status: 'in_progress', arguments: '' },
        }),
      ],
      [event('response.function_call_arguments.delta', { ...at, delta: args })],
      [
        event('response.function_call_arguments.done', { ...at, arguments: args }),
        event('response.output_item.done', { output_index: 0, item }),
        event('response.completed', { response: response('completed', [item], usage) }),
      ],
    );
    return;
  }
  const part = { type: 'output_text', annotations: [], logprobs: [], text: '' };
  await call.stream(
    res,
    [
      ...head,
      event('response.output_item.added', {
        output_index: 0,
        item: { ...item, status: 'in_progress', content: [] },
      }),
      event('response.content_part.added', { ...at, content_index: 0, part }),
    ],
    words.map((delta) =>
      event('response.output_text.delta', { ...at, content_index: 0, delta, logprobs: [] }),
    ),
    [
      event('response.output_text.done', { ...at, content_index: 0, text, logprobs: [] }),
      event('response.content_part.done', { ...at, content_index: 0, part: { ...part, text } }),
      event('response.output_item.done', { output_index: 0, item }),
      event('response.completed', { response: response('completed', [item], usage) }),
    ],
  );
}
