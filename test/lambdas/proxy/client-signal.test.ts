/** The proxy's client signal follows the response stream the Lambda runtime hands the handler. */
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ClientDisconnected, clientSignal } from '../../../lambdas/proxy/client-signal.ts';

describe('clientSignal', () => {
  it('aborts when the response stream errors (the connection to the client dropped)', () => {
    // Prepare
    const stream = new PassThrough();
    const signal = clientSignal(stream);

    // Act
    stream.destroy(new Error('ECONNRESET'));

    // Assess
    return new Promise<void>((resolve) => {
      stream.once('close', () => {
        expect(signal.aborted).toBe(true);
        expect(signal.reason).toBeInstanceOf(ClientDisconnected);
        resolve();
      });
    });
  });

  it('aborts when the stream closes before the response finished', async () => {
    // Prepare
    const stream = new PassThrough();
    const signal = clientSignal(stream);

    // Act
    stream.destroy();
    await new Promise((resolve) => stream.once('close', resolve));

    // Assess
    expect(signal.aborted).toBe(true);
  });

  it('stays quiet when the response finishes', async () => {
    // Prepare
    const stream = new PassThrough();
    stream.resume();
    const signal = clientSignal(stream);

    // Act
    stream.end('data: done\n\n');
    await new Promise((resolve) => stream.once('close', resolve));

    // Assess
    expect(signal.aborted).toBe(false);
  });
});
