/**
 * The local emulation of Lambda response streaming, exercised with a real middy v7 streaming handler:
 * the prelude (JSON + 8 NUL bytes) comes before the body, failures before the prelude surface as such,
 * and a client abort cancels the handler's body stream.
 */
import middy from '@middy/core';
import { executionModeStreamifyResponse } from '@middy/core/StreamifyResponse';
import { describe, expect, it } from 'vitest';
import {
  installAwsLambdaGlobal,
  invokeStreaming,
  isStreamingHandler,
  localContext,
} from '../../../lib/local/lambda-runtime.ts';
import { deferred } from '../../helpers/http.ts';

installAwsLambdaGlobal();

async function readAllText(stream: NodeJS.ReadableStream): Promise<string> {
  let text = '';
  for await (const chunk of stream) text += chunk.toString();
  return text;
}

type Result = {
  statusCode: number;
  headers: Record<string, string>;
  body: string | ReadableStream<Uint8Array>;
};

function streamingHandler(respond: () => Promise<Result>) {
  return middy<unknown, Result>({ executionMode: executionModeStreamifyResponse }).handler(respond);
}

describe('Lambda response streaming emulation', () => {
  it('marks middy streaming handlers the way the runtime recognises them', () => {
    expect(
      isStreamingHandler(streamingHandler(async () => ({ statusCode: 200, headers: {}, body: '' }))),
    ).toBe(true);
    expect(isStreamingHandler(async () => undefined)).toBe(false);
  });

  it('parses the prelude and passes a string body through', async () => {
    // Prepare
    const handler = streamingHandler(async () => ({
      statusCode: 201,
      headers: { 'x-test': 'yes' },
      body: 'hello',
    }));

    // Act
    const invocation = invokeStreaming(handler as never, {}, localContext('test', 'req-1'));

    // Assess
    expect(await invocation.prelude).toEqual({ statusCode: 201, headers: { 'x-test': 'yes' } });
    expect(await readAllText(invocation.body)).toBe('hello');
    await invocation.completion;
  });

  it('delivers stream chunks one by one, the first before the last is produced', async () => {
    // Prepare
    const release = deferred();
    const handler = streamingHandler(async () => ({
      statusCode: 200,
      headers: { 'content-type': 'text/event-stream' },
      body: new ReadableStream<Uint8Array>({
        async start(controller) {
          controller.enqueue(new TextEncoder().encode('data: 1\n\n'));
          await release.promise;
          controller.enqueue(new TextEncoder().encode('data: 2\n\n'));
          controller.close();
        },
      }),
    }));

    // Act
    const invocation = invokeStreaming(handler as never, {}, localContext('test', 'req-2'));
    await invocation.prelude;
    const first = await new Promise<string>((resolve) =>
      invocation.body.once('data', (c: Buffer) => resolve(c.toString())),
    );
    release.resolve();
    const rest = await readAllText(invocation.body);

    // Assess
    expect(first).toBe('data: 1\n\n');
    expect(rest).toBe('data: 2\n\n');
  });

  it("holds the handler's body back while the client does not read, then passes all of it", async () => {
    // Prepare: a body of 64 chunks of 64 KiB, produced only when asked for.
    const chunk = new Uint8Array(65_536).fill(120);
    let pulls = 0;
    const handler = streamingHandler(async () => ({
      statusCode: 200,
      headers: {},
      body: new ReadableStream<Uint8Array>({
        pull(controller) {
          pulls += 1;
          if (pulls > 64) controller.close();
          else controller.enqueue(chunk);
        },
      }),
    }));

    // Act: let the handler run as far as it can while nothing reads the body.
    const invocation = invokeStreaming(handler as never, {}, localContext('test', 'req-5'));
    await invocation.prelude;
    for (let i = 0; i < 50; i++) await new Promise((resolve) => setImmediate(resolve));
    const pulledUnread = pulls;
    let bytes = 0;
    for await (const piece of invocation.body as AsyncIterable<Buffer>) bytes += piece.length;
    await invocation.completion;

    // Assess: a few chunks of lead, not the stream piled up in the emulation.
    expect(pulledUnread).toBeLessThan(8);
    expect(bytes).toBe(64 * 65_536);
  });

  it('rejects the prelude when the handler fails before sending one', async () => {
    const handler = streamingHandler(async () => {
      throw new Error('boom');
    });
    const invocation = invokeStreaming(handler as never, {}, localContext('test', 'req-3'));
    await expect(invocation.prelude).rejects.toThrow('boom');
  });

  it('cancels the body stream when the client goes away', async () => {
    // Prepare
    const cancelled = deferred<boolean>();
    const handler = streamingHandler(async () => ({
      statusCode: 200,
      headers: {},
      body: new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(new TextEncoder().encode('data: 1\n\n'));
        },
        cancel() {
          cancelled.resolve(true);
        },
      }),
    }));
    const invocation = invokeStreaming(handler as never, {}, localContext('test', 'req-4'));
    await invocation.prelude;

    // Act
    invocation.abort();

    // Assess
    expect(await cancelled.promise).toBe(true);
    await invocation.completion;
  });
});
