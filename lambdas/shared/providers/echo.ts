/**
 * The built-in `echo` provider: answered inside the proxy, with no upstream call and no credential, in the
 * wire format of whichever API the client speaks. Everything else on the request path (authorizer,
 * admission, streaming, settlement, request log, metrics) runs as for any provider, so `tollgate doctor`
 * can prove a deployment at no provider cost. What it answers is described in `echo-script.ts`.
 */
import { frameSse } from '../proxy/sse.ts';
import { anthropic } from './anthropic.ts';
import { echoScript } from './echo-script.ts';
import { ECHO_FORMATS } from './echo-wire.ts';
import { gemini } from './gemini.ts';
import { openai } from './openai.ts';
import { type ProviderAdapter, type SseEvent, tryParseJson, type UpstreamOperation } from './types.ts';

/** The base URL echo providers are registered with: never dialled. */
export const ECHO_BASE_URL = 'http://echo.invalid';

const OPERATIONS = new Set<string>(Object.keys(ECHO_FORMATS));

/** The native adapter whose usage rules an echo answer follows, told apart by the answer's own shape. */
function nativeFor(data: unknown): ProviderAdapter {
  const record = data as { type?: unknown; candidates?: unknown; usageMetadata?: unknown } | undefined;
  if (record?.candidates !== undefined || record?.usageMetadata !== undefined) return gemini;
  const type = typeof record?.type === 'string' ? record.type : '';
  if (
    type === 'message' ||
    type.startsWith('message_') ||
    type.startsWith('content_block') ||
    type === 'ping'
  )
    return anthropic;
  return openai;
}

const wait = (ms: number, signal: AbortSignal | undefined): Promise<void> =>
  new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });

/** An SSE body that writes each event as its own chunk, pausing between content pieces. */
function eventStream(groups: () => AsyncGenerator<SseEvent[]>): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  const source = groups();
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          // A pull that enqueues nothing is not called again: skip empty groups (Gemini has no head).
          let next = await source.next();
          while (!next.done && next.value.length === 0) next = await source.next();
          if (next.done) return controller.close();
          for (const event of next.value) controller.enqueue(encoder.encode(frameSse(event)));
        } catch (err) {
          controller.error(err);
        }
      },
      async cancel() {
        await source.return(undefined);
      },
    },
    { highWaterMark: 0 },
  );
}

/** Answers one upstream call in process: the `fetch` the proxy would otherwise make. */
async function serve(input: string | URL | Request, init?: RequestInit): Promise<Response> {
  const url = new URL(input instanceof Request ? input.url : input);
  const [, operation = '', model = ''] = url.pathname.split('/');
  const body = (tryParseJson(typeof init?.body === 'string' ? init.body : '') ?? {}) as Record<
    string,
    unknown
  >;
  if (!OPERATIONS.has(operation)) return Response.json({ error: { message: 'not served' } }, { status: 404 });
  const format = ECHO_FORMATS[operation as UpstreamOperation];
  const name = decodeURIComponent(model);
  const script = echoScript(body);
  const streamed = operation === 'streamGenerateContent' || body.stream === true;
  if (!streamed || format.stream === undefined) return Response.json(format.whole(script, name));
  const stream = format.stream(script, name);
  const signal = init?.signal ?? undefined;
  const groups = async function* (): AsyncGenerator<SseEvent[]> {
    yield stream.head;
    for (const [index, piece] of script.pieces.entries()) {
      if (index > 0 && script.gapMs > 0) await wait(script.gapMs, signal);
      yield stream.piece(piece, index);
    }
    yield stream.tail;
  };
  return new Response(eventStream(groups), {
    headers: { 'content-type': 'text/event-stream; charset=utf-8' },
  });
}

export const echo: ProviderAdapter = {
  type: 'echo',
  api: 'openai',
  apis: ['openai', 'anthropic', 'gemini'],
  inProcess: { serve, baseUrl: ECHO_BASE_URL },
  path: (operation, model) => `/${operation}/${encodeURIComponent(model)}`,
  probePath: '/',
  authHeaders: () => ({}),
  forwardHeaders: {},
  isRateLimited: () => false,
  usageFromBody: (body) => nativeFor(body).usageFromBody(body),
  readStreamEvent: (data, state) => nativeFor(data).readStreamEvent(data, state),
};
