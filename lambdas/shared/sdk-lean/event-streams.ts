/**
 * What the authorizer and proxy bundles use in place of `@smithy/core/event-streams` (aliased by
 * lib/bundling.ts): none of their clients (DynamoDB, KMS, Secrets Manager) has an event-stream
 * operation, yet every client's protocol imports the codec lazily, about 19 KB of each bundle. The two names
 * the protocol imports refuse with a clear error should a future operation need them; any other import of
 * the module fails the build (esbuild: no matching export), so a client that needs more cannot ship silently.
 */

const refusal = (): Error =>
  new Error(
    'this Lambda bundle has no event-stream support: drop its alias of @smithy/core/event-streams in lib/bundling.ts',
  );

/** Stands in for the SDK's event-stream serde; constructing it refuses. */
export class EventStreamSerde {
  constructor() {
    throw refusal();
  }
}

/** Stands in for the SDK's event-stream marshaller factory; calling it refuses. */
export const eventStreamSerdeProvider = (): never => {
  throw refusal();
};
