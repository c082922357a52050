/**
 * The SDK's document client as a {@link DocumentDb}: what the CLI uses (it needs the SDK's whole
 * configuration chain: profiles, SSO, the region of `~/.aws/config`), and what tests inspect tables with.
 * The Lambdas and the local gateway call DynamoDB through `sdk-lean/dynamodb.ts` instead.
 */
import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocument } from '@aws-sdk/lib-dynamodb';
import { StorageUnavailableError } from '../errors.ts';
import { type DocumentDb, isStorageUnavailable } from './db.ts';

/**
 * A document client that drops `undefined` attributes. The endpoint comes from the SDK's own
 * configuration chain (`AWS_ENDPOINT_URL_DYNAMODB` points it at DynamoDB Local).
 */
export function documentClient(config: DynamoDBClientConfig = {}): DynamoDBDocument & DocumentDb {
  const client = new DynamoDBClient(config);
  // Without a logger of ours the SDK's logs go nowhere, yet its logger middleware still builds a copy of
  // every input and output with sensitive fields masked: about 0.1 ms of CPU per call, for nothing.
  if (config.logger === undefined) client.middlewareStack.remove('loggerMiddleware');
  // After the SDK's own retries: what is still a transient failure becomes one typed error, a 503.
  client.middlewareStack.add(
    (next) => async (args) => {
      try {
        return await next(args);
      } catch (err) {
        if (isStorageUnavailable(err)) throw new StorageUnavailableError({ cause: err });
        throw err;
      }
    },
    { step: 'initialize', name: 'tollgateStorageUnavailable' },
  );
  return DynamoDBDocument.from(client, { marshallOptions: { removeUndefinedValues: true } });
}
