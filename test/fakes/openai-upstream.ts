/**
 * A fake of OpenAI's chat completions wire protocol on 127.0.0.1: Bearer auth with OpenAI's 401 body,
 * JSON completions with `usage`, SSE streams of `chat.completion.chunk` objects ending in `data: [DONE]`,
 * the usage chunk when `stream_options.include_usage` is set, and OpenAI's error shape for injected
 * failures. It records every request it receives.
 */
import type { ServerResponse } from 'node:http';
import { listen, readAll } from '../helpers/http.ts';

/** What the fake saw. */
export interface RecordedRequest {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** A failure the next request should get. */
export interface InjectedFailure {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

/** Controls for one streamed answer. */
export interface StreamControl {
  /** The fake waits for this before sending the final content chunk (bounded by `gateTimeoutMs`). */
  gate?: Promise<void>;
  gateTimeoutMs?: number;
  /** Delay between chunks. */
  delayMs?: number;
}

const PROMPT_TOKENS = 7;

function openAiError(res: ServerResponse, failure: InjectedFailure): void {
  res.writeHead(failure.status, { 'content-type': 'application/json', ...failure.headers });
  res.end(JSON.stringify(failure.body));
}

/** Starts the fake. `apiKey` is the only credential it accepts. */
export async function startFakeOpenAI(apiKey: string) {
  const requests: RecordedRequest[] = [];
  const failures: InjectedFailure[] = [];
  const state = {
    words: ['Hello', ' from', ' the', ' fake', ' upstream', '.'],
    stream: {} as StreamControl,
    /** When the final content chunk left the fake, in process.hrtime ns. */
    lastChunkSentAt: undefined as bigint | undefined,
    /** True when a stream's socket closed before the stream finished. */
    clientAborted: false,
  };

  const { port, close } = await listen(async (req, res) => {
    const body = await readAll(req);
    requests.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, body });
    if (req.headers.authorization !== `Bearer ${apiKey}`) {
      return openAiError(res, {
        status: 401,
        body: {
          error: {
            message: 'Incorrect API key provided.',
            type: 'invalid_request_error',
            param: null,
            code: 'invalid_api_key',
          },
        },
      });
    }
    const failure = failures.shift();
    if (failure !== undefined) return openAiError(res, failure);
    if (req.method !== 'POST' || req.url !== '/v1/chat/completions') {
      return openAiError(res, {
        status: 404,
        body: { error: { message: 'Not found', type: 'invalid_request_error', param: null, code: null } },
      });
    }
    const request = JSON.parse(body) as {
      model: string;
      stream?: boolean;
      stream_options?: { include_usage?: boolean };
    };
    const id = `chatcmpl-${requests.length}`;
    const created = 1_763_900_000;
    const completionTokens = state.words.length;
    const usage = {
      prompt_tokens: PROMPT_TOKENS,
      completion_tokens: completionTokens,
      total_tokens: PROMPT_TOKENS + completionTokens,
    };
    if (request.stream !== true) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          id,
          object: 'chat.completion',
          created,
          model: request.model,
          choices: [
            {
              index: 0,
              message: { role: 'assistant', content: state.words.join(''), refusal: null },
              logprobs: null,
              finish_reason: 'stop',
            },
          ],
          usage,
        }),
      );
      return;
    }
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
    });
    let finished = false;
    res.on('close', () => {
      if (!finished) state.clientAborted = true;
    });
    const chunk = (choices: unknown[], extra: Record<string, unknown> = {}): string =>
      `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model: request.model, system_fingerprint: null, choices, ...extra })}\n\n`;
    const control = state.stream;
    const pause = (): Promise<void> => new Promise((r) => setTimeout(r, control.delayMs ?? 0));
    res.write(
      chunk([{ index: 0, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null }]),
    );
    for (const [i, word] of state.words.entries()) {
      if (i === state.words.length - 1 && control.gate !== undefined) {
        await Promise.race([control.gate, new Promise((r) => setTimeout(r, control.gateTimeoutMs ?? 5000))]);
      }
      if (res.destroyed) return;
      res.write(chunk([{ index: 0, delta: { content: word }, logprobs: null, finish_reason: null }]));
      if (i === state.words.length - 1) state.lastChunkSentAt = process.hrtime.bigint();
      await pause();
    }
    res.write(chunk([{ index: 0, delta: {}, logprobs: null, finish_reason: 'stop' }]));
    if (request.stream_options?.include_usage === true) res.write(chunk([], { usage }));
    res.write('data: [DONE]\n\n');
    finished = true;
    res.end();
  });

  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    port,
    requests,
    state,
    /** Makes the next request fail with this status and body. */
    failNext(failure: InjectedFailure): void {
      failures.push(failure);
    },
    reset(): void {
      requests.length = 0;
      failures.length = 0;
      state.stream = {};
      state.lastChunkSentAt = undefined;
      state.clientAborted = false;
    },
    close,
  };
}

export type FakeOpenAI = Awaited<ReturnType<typeof startFakeOpenAI>>;
