/**
 * What tells the proxy its client left, on Lambda: the response stream the runtime hands the handler. When
 * API Gateway drops the connection the runtime's stream errors or closes before it finished; middy's
 * pipeline then also cancels the body stream. Either way the request's signal aborts, which aborts the
 * upstream call and settles the bill for what was delivered — as the local gateway does.
 */
import type { Writable } from 'node:stream';

/** Thrown into the request's signal when the response stream ends before the response did. */
export class ClientDisconnected extends Error {
  constructor(options?: { cause: unknown }) {
    super('the client disconnected', options);
    this.name = 'ClientDisconnected';
  }
}

/** The subset of a response stream this needs (the runtime's is a wrapper, not a full Writable). */
export type ResponseStreamEvents = Pick<Writable, 'once' | 'writableFinished'>;

/** A signal that aborts when `responseStream` errors, or closes before it finished. */
export function clientSignal(responseStream: ResponseStreamEvents): AbortSignal {
  const controller = new AbortController();
  responseStream.once('error', (err: unknown) => controller.abort(new ClientDisconnected({ cause: err })));
  responseStream.once('close', () => {
    if (!responseStream.writableFinished) controller.abort(new ClientDisconnected());
  });
  return controller.signal;
}
