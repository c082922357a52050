/** The document client every function and the CLI build: the SDK's logger middleware only when logging. */
import { describe, expect, it } from 'vitest';
import { documentClient } from '#shared/store/sdk-db.ts';

const middleware = (client: ReturnType<typeof documentClient>): string[] =>
  client.middlewareStack.identify().map((entry) => entry.split(' ')[0] ?? '');

describe('documentClient', () => {
  it('leaves out the SDK logger middleware, which masks a copy of every call for a logger that discards it', () => {
    const client = documentClient({ region: 'us-east-1' });
    expect(middleware(client)).not.toContain('loggerMiddleware');
    expect(middleware(client)).toContain('tollgateStorageUnavailable');
    client.destroy();
  });

  it('keeps it when a logger is given', () => {
    const logger = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };
    const client = documentClient({ region: 'us-east-1', logger });
    expect(middleware(client)).toContain('loggerMiddleware');
    client.destroy();
  });
});
