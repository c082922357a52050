/**
 * What every fake upstream shares: a server on 127.0.0.1 that records requests, checks the credential
 * the way the real API does, answers injected failures (globally or per credential), and streams SSE
 * under test control (pauses, a gate before the last chunk, a broken connection, silence).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { listen, readAll } from '../helpers/http.ts';

/** What a fake saw. */
export interface RecordedRequest {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  /** The credential the request carried, as the fake read it. */
  credential: string | undefined;
}

/** A failure to answer with. */
export interface InjectedFailure {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

/** The tool call a fake makes: the function's name and the arguments it passes. */
export interface ScriptedToolCall {
  name: string;
  args: Record<string, unknown>;
}

/** What the model says: the fake's words, or what a tool answered when the conversation ends in its result. */
export function answerWords(words: string[], toolResult: unknown): string[] {
  return toolResult === undefined
    ? words
    : ['The tool said: ', typeof toolResult === 'string' ? toolResult : JSON.stringify(toolResult)];
}

/** Answers `GET …/models` pages: `page(items, after)` slices after the id `after` (or the first page). */
export function pageAfter<T>(items: T[], idOf: (item: T) => string, after: string | undefined, size: number) {
  const start = after === undefined ? 0 : items.findIndex((item) => idOf(item) === after) + 1;
  const page = items.slice(start, start + size);
  return { page, more: start + size < items.length };
}

/** Controls for streamed answers. */
export interface StreamControl {
  /** Wait for this before sending the final content chunk (bounded by `gateTimeoutMs`). */
  gate?: Promise<void>;
  gateTimeoutMs?: number;
  /** Pause between chunks. */
  delayMs?: number;
  /** Destroy the connection right after the first content chunk. */
  breakAfterFirst?: boolean;
  /** Destroy the connection right after this many content chunks. */
  breakAfter?: number;
  /** Go silent for this long after the first content chunk. */
  silenceAfterFirstMs?: number;
  /** Hold the response headers back this long. */
  headerDelayMs?: number;
  /** Awaited before each content chunk after the first (`index` ≥ 1), so a test can pace the stream. */
  beforeChunk?: (index: number) => Promise<void>;
}

/** The per-API part of a fake. */
export interface FakeApi {
  /** Reads the credential from a request the way the real API does. */
  credentialOf(req: IncomingMessage): string | undefined;
  /** The API's answer to a missing or wrong credential. */
  unauthorized: InjectedFailure;
  /** The API's rate-limit answer. */
  rateLimited: InjectedFailure;
  /** Serves one authenticated request; `stream` writes the SSE chunks with the base's controls. */
  serve(req: RecordedRequest, res: ServerResponse, stream: Streamer): Promise<void> | void;
}

/** Writes SSE chunks under the fake's stream controls. */
export type Streamer = (
  res: ServerResponse,
  head: string[],
  content: string[],
  tail: string[],
) => Promise<void>;

/** Starts a fake API accepting any of `credentials`. */
export async function startFakeUpstream(api: FakeApi, credentials: string[]) {
  const requests: RecordedRequest[] = [];
  const failures: InjectedFailure[] = [];
  const state = {
    words: ['Hello', ' from', ' the', ' fake', ' upstream', '.'],
    stream: {} as StreamControl,
    /** Credentials that answer as rate limited. */
    rateLimited: new Set<string>(),
    /** Credentials that answer with this failure. */
    failing: new Map<string, InjectedFailure>(),
    lastChunkSentAt: undefined as bigint | undefined,
    /** When a streamed response's connection closed before its end (ms since epoch). */
    abortedAt: undefined as number | undefined,
    /**
     * A function the fake calls when a request offers a tool of this name and holds no tool result yet;
     * otherwise it answers with `words`. Off by default, so agents' own tools are never called.
     */
    tool: undefined as ScriptedToolCall | undefined,
    /** When a streamed response's connection closed before its headers were sent (ms since epoch). */
    abortedBeforeHeadersAt: undefined as number | undefined,
  };

  const streamer: Streamer = async (res, head, content, tail) => {
    const control = state.stream;
    res.on('close', () => {
      if (!res.headersSent) state.abortedBeforeHeadersAt = Date.now();
    });
    if (control.headerDelayMs !== undefined) await new Promise((r) => setTimeout(r, control.headerDelayMs));
    if (res.destroyed) return;
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
    let finished = false;
    res.on('close', () => {
      if (!finished) state.abortedAt = Date.now();
    });
    const pause = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
    for (const chunk of head) res.write(chunk);
    for (const [i, chunk] of content.entries()) {
      if (i === content.length - 1 && control.gate !== undefined) {
        await Promise.race([control.gate, pause(control.gateTimeoutMs ?? 5000)]);
      }
      if (i > 0 && control.beforeChunk !== undefined) await control.beforeChunk(i);
      if (res.destroyed) return;
      res.write(chunk);
      if (i === content.length - 1) state.lastChunkSentAt = process.hrtime.bigint();
      if ((i === 0 && control.breakAfterFirst === true) || i + 1 === control.breakAfter) {
        // Let the first chunk reach the gateway before the connection drops.
        await pause(200);
        res.destroy();
        return;
      }
      if (i === 0 && control.silenceAfterFirstMs !== undefined) await pause(control.silenceAfterFirstMs);
      await pause(control.delayMs ?? 0);
    }
    for (const chunk of tail) res.write(chunk);
    finished = true;
    res.end();
  };

  const answer = (res: ServerResponse, failure: InjectedFailure): void => {
    res.writeHead(failure.status, { 'content-type': 'application/json', ...failure.headers });
    res.end(JSON.stringify(failure.body));
  };

  const { port, close } = await listen(async (req, res) => {
    const recorded: RecordedRequest = {
      method: req.method ?? '',
      path: req.url ?? '',
      headers: req.headers,
      body: await readAll(req),
      credential: api.credentialOf(req),
    };
    requests.push(recorded);
    const credential = recorded.credential;
    if (credential === undefined || !credentials.includes(credential)) return answer(res, api.unauthorized);
    const failure = failures.shift() ?? state.failing.get(credential);
    if (failure !== undefined) return answer(res, failure);
    if (state.rateLimited.has(credential)) return answer(res, api.rateLimited);
    await api.serve(recorded, res, streamer);
  });

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    state,
    /** Makes the next request fail with this answer, whatever its credential. */
    failNext(failure: InjectedFailure): void {
      failures.push(failure);
    },
    reset(): void {
      requests.length = 0;
      failures.length = 0;
      state.stream = {};
      state.rateLimited.clear();
      state.failing.clear();
      state.lastChunkSentAt = undefined;
      state.abortedAt = undefined;
      state.tool = undefined;
      state.abortedBeforeHeadersAt = undefined;
    },
    close,
  };
}

export type FakeUpstream = Awaited<ReturnType<typeof startFakeUpstream>>;

/** `data: …` framing of one JSON event, optionally named, with the API's line ending. */
export function sse(data: unknown, event?: string, eol = '\n'): string {
  return `${event === undefined ? '' : `event: ${event}${eol}`}data: ${typeof data === 'string' ? data : JSON.stringify(data)}${eol}${eol}`;
}
