/**
 * Day rows on DynamoDB Local: a request is counted once although the SDK sends its update twice (the first
 * answer lost), and two requests are two.
 */
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { ENV } from '#shared/env.ts';
import { leanDocumentDb } from '#shared/sdk-lean/dynamodb.ts';
import { UsageStore } from '#shared/store/usage.ts';
import { startCuttableProxy } from '../../../helpers/cuttable-proxy.ts';

beforeAll(async () => {
  const { setupLocalEnv } = await import('../../../helpers/local-env.ts');
  await setupLocalEnv();
});

describe('a day row', () => {
  it('counts a request once when the SDK repeats its update after the answer was lost', async () => {
    // Prepare
    const link = await startCuttableProxy(inject('dynamoEndpoint'));
    const db = leanDocumentDb({ endpoint: link.endpoint });
    const usage = new UsageStore(db, String(process.env[ENV.usageTable]));
    const at = new Date();
    const entry = (requestId: string) => ({
      keyId: 'k-day-lost',
      model: 'p/m',
      usage: { inputTokens: 10, outputTokens: 5 },
      at,
      requestId,
    });

    // Act: the first request's answer is lost (DynamoDB applied it), then a second request.
    link.loseNextAnswer();
    await usage.record(entry('req-a'));
    await usage.record(entry('req-b'));

    // Assess
    expect(await usage.forKey('k-day-lost')).toEqual([
      { day: at.toISOString().slice(0, 10), model: 'p/m', requests: 2, inputTokens: 20, outputTokens: 10 },
    ]);
    await link.close();
  });
});
