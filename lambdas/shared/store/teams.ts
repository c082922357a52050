/** Persistence of teams (workspaces): a team groups keys, has its own monthly budget and can be disabled. */
import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  paginateScan,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { KEY_ID_LENGTH, randomBase62 } from '../keys.ts';
import { isConditionalCheckFailed, RecordNotFoundError } from './db.ts';

/** A team as stored and shown. Money is in micro-USD. */
export interface Team {
  teamId: string;
  name: string;
  status: 'active' | 'disabled';
  budgetMicros?: number;
  createdAt: string;
  updatedAt: string;
}

/** Teams table access. */
export class TeamStore {
  readonly table: string;
  private readonly db: DynamoDBDocumentClient;

  constructor(db: DynamoDBDocumentClient, table: string) {
    this.db = db;
    this.table = table;
  }

  /** Creates a team with an optional monthly budget. */
  async create(name: string, budgetMicros?: number): Promise<Team> {
    if (name.trim() === '') throw new Error('a team needs a name');
    const at = new Date().toISOString();
    const team: Team = {
      teamId: `team_${randomBase62(KEY_ID_LENGTH)}`,
      name: name.trim(),
      status: 'active',
      createdAt: at,
      updatedAt: at,
      ...(budgetMicros === undefined ? {} : { budgetMicros }),
    };
    await this.db.send(
      new PutCommand({
        TableName: this.table,
        Item: team,
        ConditionExpression: 'attribute_not_exists(teamId)',
      }),
    );
    return team;
  }

  /** One team, or undefined. */
  async get(teamId: string): Promise<Team | undefined> {
    const out = await this.db.send(
      new GetCommand({ TableName: this.table, Key: { teamId }, ConsistentRead: true }),
    );
    return out.Item as Team | undefined;
  }

  /** Like {@link get} but throws {@link RecordNotFoundError}. */
  async require(teamId: string): Promise<Team> {
    const team = await this.get(teamId);
    if (team === undefined) throw new RecordNotFoundError('team', teamId);
    return team;
  }

  /** Every team, by name. */
  async list(): Promise<Team[]> {
    const teams: Team[] = [];
    for await (const page of paginateScan(
      { client: this.db },
      { TableName: this.table, ConsistentRead: true },
    )) {
      for (const item of page.Items ?? []) teams.push(item as Team);
    }
    return teams.sort((a, b) => a.name.localeCompare(b.name));
  }

  /** Disables or re-enables a team; a disabled team's keys are refused. */
  async setStatus(teamId: string, status: Team['status']): Promise<Team> {
    try {
      const out = await this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { teamId },
          UpdateExpression: 'SET #status = :status, updatedAt = :at',
          ConditionExpression: 'attribute_exists(teamId)',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':status': status, ':at': new Date().toISOString() },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return out.Attributes as Team;
    } catch (err) {
      if (isConditionalCheckFailed(err)) throw new RecordNotFoundError('team', teamId);
      throw err;
    }
  }

  /** Deletes a team. The caller checks that no key belongs to it. */
  async delete(teamId: string): Promise<void> {
    try {
      await this.db.send(
        new DeleteCommand({
          TableName: this.table,
          Key: { teamId },
          ConditionExpression: 'attribute_exists(teamId)',
        }),
      );
    } catch (err) {
      if (isConditionalCheckFailed(err)) throw new RecordNotFoundError('team', teamId);
      throw err;
    }
  }
}
