/**
 * The key and its team read in one BatchGetItem: keys DynamoDB leaves unprocessed when it throttles are
 * asked again, and storage that keeps leaving them is unavailable (503), never a wrong answer. DynamoDB
 * Local never throttles, so the client here answers as DynamoDB does when it does.
 */
import { describe, expect, it } from 'vitest';
import { StorageUnavailableError } from '#shared/errors.ts';
import { issueKey } from '#shared/keys.ts';
import type { DocumentDb } from '#shared/store/db.ts';
import { KeyReader } from '#shared/store/key-reader.ts';

const issued = issueKey('tg-');
const keyItem = {
  keyId: issued.keyId,
  keyHash: issued.hash,
  name: 'k',
  status: 'active',
  models: [],
  teamId: 'team_a',
  createdAt: '2026-12-01T00:00:00Z',
  updatedAt: '2026-12-01T00:00:00Z',
  lastChange: { changeId: 'c' },
};
const teamItem = { teamId: 'team_a', name: 'a', status: 'active', rev: 3 };

/** A client whose BatchGetItem answers are `answers`, in turn; records what each call asked for. */
function throttling(answers: Array<Record<string, unknown>>) {
  const asked: unknown[] = [];
  const db = {
    batchGet: async (input: { RequestItems: unknown }) => {
      asked.push(input.RequestItems);
      return answers[Math.min(asked.length - 1, answers.length - 1)];
    },
  } as unknown as DocumentDb;
  return { db, asked };
}

describe('KeyReader.authenticateAlong', () => {
  it('asks again for what DynamoDB left unprocessed, and returns both items', async () => {
    // Prepare: the first answer has the key and leaves the team unprocessed.
    const unprocessed = { teams: { Keys: [{ teamId: 'team_a' }], ConsistentRead: true } };
    const { db, asked } = throttling([
      { Responses: { keys: [keyItem] }, UnprocessedKeys: unprocessed },
      { Responses: { teams: [teamItem] }, UnprocessedKeys: {} },
    ]);

    // Act
    const read = await new KeyReader(db, 'keys').authenticateAlong(issued.keyId, issued.hash, {
      table: 'teams',
      key: { teamId: 'team_a' },
    });

    // Assess: both consistent, the second call only for the team.
    expect(read.key.keyId).toBe(issued.keyId);
    expect(read.along).toEqual(teamItem);
    expect(asked).toEqual([
      {
        keys: { Keys: [{ keyId: issued.keyId }], ConsistentRead: true },
        teams: { Keys: [{ teamId: 'team_a' }], ConsistentRead: true },
      },
      unprocessed,
    ]);
  });

  it('answers 503 when DynamoDB keeps leaving keys unprocessed', async () => {
    const { db, asked } = throttling([
      { Responses: {}, UnprocessedKeys: { keys: { Keys: [{ keyId: issued.keyId }], ConsistentRead: true } } },
    ]);
    const reading = new KeyReader(db, 'keys').authenticateAlong(issued.keyId, issued.hash, {
      table: 'teams',
      key: { teamId: 'team_a' },
    });
    await expect(reading).rejects.toBeInstanceOf(StorageUnavailableError);
    expect(asked).toHaveLength(5);
  });
});
