/**
 * The configuration version: one item in the providers table that every configuration write (providers,
 * credentials, prices, aliases) bumps after it lands. Proxies cache configuration and compare this number
 * every few seconds, and on a miss, reloading what they cached when it moved: changes reach every warm
 * instance within that interval at the cost of one small read per interval, not one per request.
 */
import type { Change } from './attribution.ts';
import type { DocumentDb } from './db.ts';

/** The version item's key; `#` keeps it apart from every provider and alias name. */
export const CONFIG_VERSION_KEY = { provider: '#config', sk: 'version' } as const;

/** The current configuration version (0 before the first change). */
export async function readConfigVersion(db: DocumentDb, table: string): Promise<number> {
  const out = await db.get({ TableName: table, Key: CONFIG_VERSION_KEY, ConsistentRead: true });
  return Number(out.Item?.version ?? 0);
}

/**
 * Moves the version on after `change` landed, so a proxy that sees the new number also reads the change.
 * The item carries the change as a cascade: the audit log records the change itself, not this counter.
 */
export async function bumpConfigVersion(db: DocumentDb, table: string, change: Change): Promise<void> {
  await db.update({
    TableName: table,
    Key: CONFIG_VERSION_KEY,
    UpdateExpression: 'ADD version :one SET lastChange = :change',
    ExpressionAttributeValues: { ':one': 1, ':change': { ...change, cascade: true } },
  });
}
