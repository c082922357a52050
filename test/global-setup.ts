/** Starts one in-memory DynamoDB Local for the whole run; each test file uses its own table names. */
import type { TestProject } from 'vitest/node';
import { startDynamoDbLocal } from '../lib/local/dynamodb-local.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    dynamoEndpoint: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const dynamo = await startDynamoDbLocal({});
  project.provide('dynamoEndpoint', dynamo.endpoint);
  return () => dynamo.stop();
}
