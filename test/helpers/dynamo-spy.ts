/**
 * A pass-through HTTP proxy in front of DynamoDB Local that counts operations by `X-Amz-Target`, so tests
 * can prove that a request caused no database read without mocking the client.
 */
import { dynamoOperation, forwardTo, listen } from './http.ts';

export async function startDynamoSpy(target: string) {
  const upstream = new URL(target);
  const counts = new Map<string, number>();
  const { port, close } = await listen((req, res) => {
    const operation = dynamoOperation(req) ?? 'unknown';
    counts.set(operation, (counts.get(operation) ?? 0) + 1);
    forwardTo(upstream, { req, res });
  });
  return {
    endpoint: `http://127.0.0.1:${port}`,
    /** Total operations seen so far. */
    total: (): number => [...counts.values()].reduce((a, b) => a + b, 0),
    count: (operation: string): number => counts.get(operation) ?? 0,
    close,
  };
}
