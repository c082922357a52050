/**
 * A pass-through HTTP proxy in front of DynamoDB Local that counts operations by `X-Amz-Target`, so tests
 * can prove that a request caused no database read without mocking the client.
 */
import { request } from 'node:http';
import { listen } from './http.ts';

export async function startDynamoSpy(target: string) {
  const upstream = new URL(target);
  const counts = new Map<string, number>();
  const { port, close } = await listen((req, res) => {
    const operation = String(req.headers['x-amz-target'] ?? 'unknown').replace(/^DynamoDB_\d+\./, '');
    counts.set(operation, (counts.get(operation) ?? 0) + 1);
    const forward = request(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: req.url,
        headers: req.headers,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 500, answer.headers);
        answer.pipe(res);
      },
    );
    forward.on('error', () => res.destroy());
    req.pipe(forward);
  });
  return {
    endpoint: `http://127.0.0.1:${port}`,
    /** Total operations seen so far. */
    total: (): number => [...counts.values()].reduce((a, b) => a + b, 0),
    count: (operation: string): number => counts.get(operation) ?? 0,
    close,
  };
}
