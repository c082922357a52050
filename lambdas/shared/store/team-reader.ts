/**
 * Reading teams by id: all the request path needs of the teams table, so its bundles carry this module and
 * not the writes of `TeamStore` (`teams.ts`).
 */
import { type DocumentDb, type ItemRef, RecordNotFoundError } from './db.ts';
import { isStoredId } from './limits.ts';
import { type ShardSpec, shardSpecOf } from './shards.ts';

/** A team as stored and shown. Money is in micro-USD. */
export interface Team {
  teamId: string;
  name: string;
  status: 'active' | 'disabled';
  budgetMicros?: number;
  /** How many counters the team's month is split over, for teams too busy for one (see `shards.ts`). */
  budgetShards?: ShardSpec;
  /** Labels of the provider credentials its keys' requests may use, unless a key has its own; absent: any. */
  credentials?: string[];
  createdAt: string;
  updatedAt: string;
  /** Counts the changes to the item; the authorizer's cached context is checked against it. */
  rev?: number;
}

/** Reads of the teams table. */
export class TeamReader {
  readonly table: string;
  protected readonly db: DocumentDb;

  constructor(db: DocumentDb, table: string) {
    this.db = db;
    this.table = table;
  }

  /** Where a team's item is, for reading it along with another (undefined: an id no team can have). */
  ref(teamId: string): ItemRef | undefined {
    return isStoredId(teamId) ? { table: this.table, key: { teamId } } : undefined;
  }

  /** One team, or undefined. */
  async get(teamId: string): Promise<Team | undefined> {
    // An id no team can have is absent without a read (and never reaches DynamoDB's key-size limits).
    if (!isStoredId(teamId)) return undefined;
    const out = await this.db.get({ TableName: this.table, Key: { teamId }, ConsistentRead: true });
    return out.Item === undefined ? undefined : withoutChange(out.Item);
  }

  /** Like {@link get} but throws {@link RecordNotFoundError}. */
  async require(teamId: string): Promise<Team> {
    const team = await this.get(teamId);
    if (team === undefined) throw new RecordNotFoundError('team', teamId);
    return team;
  }
}

/** A stored team as shown: without its audit stamp and key epoch, its shard attributes as one `budgetShards`. */
export function withoutChange(item: Record<string, unknown> | undefined): Team {
  const { lastChange: _change, keyEpoch: _epoch, shards, previousShards, shardsFrom, ...team } = item ?? {};
  const split = shardSpecOf({ shards, previousShards, shardsFrom });
  return { ...(team as unknown as Team), ...(split === undefined ? {} : { budgetShards: split }) };
}
