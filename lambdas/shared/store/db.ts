/** DynamoDB client construction, shared by the Lambdas, the local gateway and the CLI. */
import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ConflictError, NotFoundError } from '../operations/errors.ts';

/**
 * A document client that drops `undefined` attributes. The endpoint comes from the SDK's own
 * configuration chain (`AWS_ENDPOINT_URL_DYNAMODB` points it at DynamoDB Local).
 */
export function documentClient(config: DynamoDBClientConfig = {}): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(new DynamoDBClient(config), {
    marshallOptions: { removeUndefinedValues: true },
  });
}

/** True for the SDK's conditional-write refusal. */
export function isConditionalCheckFailed(err: unknown): boolean {
  return err instanceof Error && err.name === 'ConditionalCheckFailedException';
}

/**
 * The per-item codes (`ConditionalCheckFailed`, `TransactionConflict`, `None`…) of a cancelled
 * TransactWriteItems, in item order; undefined for any other error.
 */
export function cancellationCodes(err: unknown): Array<string | undefined> | undefined {
  if (!(err instanceof Error) || err.name !== 'TransactionCanceledException') return undefined;
  return ((err as Error & { CancellationReasons?: Array<{ Code?: string }> }).CancellationReasons ?? []).map(
    (r) => r.Code,
  );
}

/** A management operation named a record that does not exist. */
export class RecordNotFoundError extends NotFoundError {
  constructor(kind: string, id: string) {
    super(`${kind} '${id}' not found`);
    this.name = 'RecordNotFoundError';
  }
}

/** A management operation would create a record that already exists. */
export class RecordExistsError extends ConflictError {
  constructor(kind: string, id: string) {
    super(`${kind} '${id}' already exists`);
    this.name = 'RecordExistsError';
  }
}
