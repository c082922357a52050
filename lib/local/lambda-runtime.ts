/**
 * A faithful emulation of the Lambda Node.js runtime's response streaming, so the local gateway can run
 * the very handler bundles that run in AWS:
 * - `awslambda.streamifyResponse(fn)` marks a handler as streaming (the runtime then passes it a writable
 *   response stream as its second argument);
 * - `awslambda.HttpResponseStream.from(stream, metadata)` writes the HTTP integration prelude — the JSON
 *   metadata followed by 8 NUL bytes — before any body byte, exactly as the runtime does for API Gateway.
 * The reader side parses that prelude back into status and headers, as API Gateway does.
 */
import { PassThrough, type Writable } from 'node:stream';
import type { Context } from 'aws-lambda';

const STREAMING = Symbol.for('aws.lambda.runtime.handler.streaming');
const DELIMITER = Buffer.alloc(8, 0);
/** API Gateway gives up on a prelude longer than this. */
const MAX_PRELUDE_BYTES = 64 * 1024;

/** The metadata a streaming handler sends before its body. */
export interface HttpPrelude {
  statusCode?: number;
  headers?: Record<string, string>;
  multiValueHeaders?: Record<string, string[]>;
  cookies?: string[];
}

type StreamingHandler = (event: unknown, responseStream: Writable, context: Context) => Promise<unknown>;

interface AwsLambdaGlobal {
  streamifyResponse(handler: StreamingHandler): StreamingHandler;
  HttpResponseStream: { from(stream: Writable, prelude: HttpPrelude): Writable };
}

/** Installs the `awslambda` global the way the Lambda runtime provides it; must run before handlers load. */
export function installAwsLambdaGlobal(): void {
  // @types/aws-lambda declares the global as a namespace of classes; the emulation is a plain object.
  const host = globalThis as unknown as { awslambda?: Partial<AwsLambdaGlobal> };
  // Other packages (the SDK's invoke store) may already have created the object; add to it.
  host.awslambda ??= {};
  const awslambda = host.awslambda;
  awslambda.streamifyResponse ??= (handler) => {
    Object.defineProperty(handler, STREAMING, { value: 'response' });
    return handler;
  };
  awslambda.HttpResponseStream ??= {
    from(stream, prelude) {
      stream.write(Buffer.concat([Buffer.from(JSON.stringify(prelude)), DELIMITER]));
      return stream;
    },
  };
}

/** True for handlers wrapped by `awslambda.streamifyResponse`. */
export function isStreamingHandler(handler: unknown): handler is StreamingHandler {
  // The runtime dispatches on this marker, not on the function's arity.
  return (
    typeof handler === 'function' && (handler as unknown as Record<symbol, unknown>)[STREAMING] === 'response'
  );
}

/** A fake but complete Lambda context for local invocations. */
export function localContext(functionName: string, requestId: string, timeoutMs = 900_000): Context {
  const deadline = Date.now() + timeoutMs;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:local:000000000000:function:${functionName}`,
    memoryLimitInMB: '512',
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/** What the reader of a streamed invocation sees: the parsed prelude, then the body bytes. */
export interface StreamedInvocation {
  prelude: Promise<HttpPrelude>;
  body: PassThrough;
  /** Settles when the handler's promise settles. */
  completion: Promise<void>;
  /** Simulates the client going away: the handler's response stream errors. */
  abort(): void;
}

/**
 * Invokes a streaming handler and splits its output into prelude and body.
 * The prelude promise rejects if the handler fails before sending one.
 */
export function invokeStreaming(
  handler: StreamingHandler,
  event: unknown,
  context: Context,
): StreamedInvocation {
  const responseStream = new PassThrough();
  const body = new PassThrough();
  let buffered = Buffer.alloc(0);
  let preludeDone = false;
  let resolvePrelude!: (prelude: HttpPrelude) => void;
  let rejectPrelude!: (err: Error) => void;
  const prelude = new Promise<HttpPrelude>((resolve, reject) => {
    resolvePrelude = resolve;
    rejectPrelude = reject;
  });
  // The caller may never await the prelude (e.g. the client left); avoid an unhandled rejection.
  prelude.catch(() => undefined);

  // The body goes on at the reader's pace: a client slower than the upstream holds the handler's writes
  // back (as the Runtime API's connection does), rather than the stream piling up here.
  const forward = (chunk: Buffer): void => {
    if (!body.write(chunk)) {
      responseStream.pause();
      body.once('drain', () => responseStream.resume());
    }
  };
  responseStream.on('data', (chunk: Buffer) => {
    if (preludeDone) {
      forward(chunk);
      return;
    }
    buffered = Buffer.concat([buffered, chunk]);
    const at = buffered.indexOf(DELIMITER);
    if (at === -1) {
      if (buffered.length > MAX_PRELUDE_BYTES) rejectPrelude(new Error('response prelude too long'));
      return;
    }
    preludeDone = true;
    try {
      resolvePrelude(JSON.parse(buffered.subarray(0, at).toString('utf8')) as HttpPrelude);
    } catch {
      rejectPrelude(new Error('response prelude is not JSON'));
    }
    const rest = buffered.subarray(at + DELIMITER.length);
    buffered = Buffer.alloc(0);
    if (rest.length > 0) forward(rest);
  });
  responseStream.on('end', () => {
    if (!preludeDone) rejectPrelude(new Error('handler ended without a response prelude'));
    body.end();
  });
  responseStream.on('error', () => body.end());

  const completion = (async () => {
    try {
      await handler(event, responseStream, context);
      if (!responseStream.writableEnded) responseStream.end();
    } catch (err) {
      rejectPrelude(err instanceof Error ? err : new Error(String(err)));
      if (!responseStream.destroyed) responseStream.destroy();
      body.end();
    }
  })();

  return {
    prelude,
    body,
    completion,
    abort: () => responseStream.destroy(new Error('client disconnected')),
  };
}
