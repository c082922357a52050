/**
 * A pass-through HTTP proxy in front of DynamoDB Local that holds back chosen operations until a given
 * number of them has arrived, then lets them all through at once. Two writers that each read and then
 * write are thereby made to race deterministically: both reads happen before either write lands.
 */
import { dynamoOperation, forwardTo, listen, readAll } from './http.ts';

/** Which requests to hold: the operation (`UpdateItem`…) and a predicate on the JSON body. */
export interface GateRule {
  operation: string;
  matches?: (body: Record<string, unknown>) => boolean;
  /** How many must arrive before all are released. */
  count: number;
  /** Released anyway after this long, so a writer that never comes cannot hang the test. */
  timeoutMs?: number;
}

export async function startDynamoGate(target: string, rule: GateRule) {
  const upstream = new URL(target);
  let waiting: Array<() => void> = [];
  let held = 0;
  let timer: NodeJS.Timeout | undefined;
  const releaseAll = (): void => {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    const now = waiting;
    waiting = [];
    for (const release of now) release();
  };
  const { port, close } = await listen(async (req, res) => {
    const operation = dynamoOperation(req) ?? '';
    const text = await readAll(req);
    let body: Record<string, unknown> = {};
    try {
      body = JSON.parse(text) as Record<string, unknown>;
    } catch {
      // Not JSON: forwarded as it is.
    }
    if (operation === rule.operation && (rule.matches?.(body) ?? true) && held < rule.count) {
      held += 1;
      await new Promise<void>((resolve) => {
        waiting.push(resolve);
        if (held >= rule.count) releaseAll();
        else timer ??= setTimeout(releaseAll, rule.timeoutMs ?? 10_000);
      });
    }
    forwardTo(upstream, { req, res, body: text });
  });
  return {
    endpoint: `http://127.0.0.1:${port}`,
    /** How many requests were held so far. */
    held: (): number => held,
    close: async (): Promise<void> => {
      releaseAll();
      await close();
    },
  };
}
