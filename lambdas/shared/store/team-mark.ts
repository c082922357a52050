/**
 * How a key joins a team without racing the team's delete: the key's write and a mark on the team commit in
 * one transaction, and the team's delete holds only while the mark is as it read it (see `TeamStore.delete`).
 */
import type { Change } from './attribution.ts';

/**
 * The transaction item that places a key in `teamId`: it fails unless the team exists, and moves the
 * team's `keyEpoch` so a delete that checked for keys before this commit fails instead of orphaning it.
 * Carried as a cascade of the key's change: the audit log records the key, not this counter.
 */
export function teamMark(table: string, teamId: string, change: Change) {
  return {
    Update: {
      TableName: table,
      Key: { teamId },
      UpdateExpression: 'SET keyEpoch = if_not_exists(keyEpoch, :zero) + :one, lastChange = :change',
      ConditionExpression: 'attribute_exists(teamId)',
      ExpressionAttributeValues: { ':zero': 0, ':one': 1, ':change': { ...change, cascade: true } },
    },
  };
}
