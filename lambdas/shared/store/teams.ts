/** Persistence of teams (workspaces): a team groups keys, has its own monthly budget and can be disabled. */

import type { UpdateCommandInput } from '@aws-sdk/lib-dynamodb';
import { KEY_ID_LENGTH, randomBase62 } from '../keys.ts';
import { InvalidError } from '../operations/errors.ts';
import { type AuditAction, newChange } from './attribution.ts';
import {
  ConcurrentChangeError,
  type DocumentDb,
  isConditionalCheckFailed,
  RecordNotFoundError,
  scanPages,
} from './db.ts';
import type { StoreOptions } from './keys.ts';
import { checkMicros, checkName, isStoredId } from './limits.ts';
import { changeSplit, type MonthBegun } from './shards.ts';
import { type Team, TeamReader, withoutChange } from './team-reader.ts';

export type { Team } from './team-reader.ts';

/** Teams table access: the reads of {@link TeamReader}, and every change, each stamped for the audit log. */
export class TeamStore extends TeamReader {
  private readonly options: StoreOptions;

  constructor(db: DocumentDb, table: string, options: StoreOptions = {}) {
    super(db, table);
    this.options = options;
  }

  private change(action: AuditAction) {
    return newChange(this.options.actor, action, { at: this.options.now?.() ?? new Date() });
  }

  /** Creates a team with an optional monthly budget and credential binding (labels). */
  async create(name: string, budgetMicros?: number, credentials?: string[]): Promise<Team> {
    const lastChange = this.change('team.create');
    if (name.trim() === '') throw new InvalidError('a team needs a name');
    checkName(name);
    checkMicros(budgetMicros, 'the budget');
    const at = new Date().toISOString();
    const team: Team = {
      teamId: `team_${randomBase62(KEY_ID_LENGTH)}`,
      name: name.trim(),
      status: 'active',
      createdAt: at,
      updatedAt: at,
      ...(budgetMicros === undefined ? {} : { budgetMicros }),
      ...(credentials === undefined ? {} : { credentials }),
    };
    await this.db.put({
      TableName: this.table,
      Item: { ...team, lastChange },
      ConditionExpression: 'attribute_not_exists(teamId)',
    });
    return team;
  }

  /** Every team, by name. */
  async list(): Promise<Team[]> {
    const teams: Team[] = [];
    for await (const page of scanPages(this.db, { TableName: this.table, ConsistentRead: true })) {
      for (const item of page.Items ?? []) teams.push(withoutChange(item));
    }
    return teams.sort((a, b) => a.name.localeCompare(b.name));
  }

  /** Disables or re-enables a team; a disabled team's keys are refused. */
  async setStatus(teamId: string, status: Team['status']): Promise<Team> {
    return this.stamp(teamId, this.change(status === 'disabled' ? 'team.disable' : 'team.enable'), {
      status,
    });
  }

  /**
   * Splits the team's monthly counters over `count` shards from the next month on (a running month keeps
   * its split, so it is never admitted against two). `begun` tells a month admissions have begun counting.
   */
  async setBudgetShards(teamId: string, count: number, begun?: MonthBegun): Promise<Team> {
    const lastChange = this.change('team.update');
    try {
      return await changeSplit(
        { count, at: new Date(lastChange.at), initial: 1, ...(begun === undefined ? {} : { begun }) },
        async (split) => {
          const out = await this.db.update({
            TableName: this.table,
            Key: { teamId },
            UpdateExpression: `SET ${split.set.join(', ')}, updatedAt = :at, lastChange = :change ADD rev :one`,
            ConditionExpression: `attribute_exists(teamId) AND ${split.condition}`,
            ExpressionAttributeValues: {
              ...split.values,
              ':one': 1,
              ':at': lastChange.at,
              ':change': lastChange,
            },
            ReturnValues: 'ALL_NEW',
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          });
          return withoutChange(out.Attributes);
        },
        // The other case's condition holds; a team that is gone has no old item to return.
        (err) => isConditionalCheckFailed(err) && (err as { Item?: unknown }).Item !== undefined,
      );
    } catch (err) {
      // Refused in every round: gone (no old item), or changed by others each time.
      if (isConditionalCheckFailed(err))
        throw (err as { Item?: unknown }).Item === undefined
          ? new RecordNotFoundError('team', teamId)
          : new ConcurrentChangeError('team', teamId, { cause: err });
      throw err;
    }
  }

  /** Renames a team or changes its budget; `budgetMicros: null` removes the budget. */
  async edit(
    teamId: string,
    patch: { name?: string; budgetMicros?: number | null; credentials?: string[] | null },
  ): Promise<Team> {
    const lastChange = this.change('team.update');
    const set = ['updatedAt = :at', 'lastChange = :change'];
    const values: Record<string, unknown> = { ':at': lastChange.at, ':change': lastChange, ':one': 1 };
    if (patch.name !== undefined) {
      set.push('#name = :name');
      values[':name'] = patch.name;
    }
    if (typeof patch.budgetMicros === 'number') {
      set.push('budgetMicros = :budget');
      values[':budget'] = patch.budgetMicros;
    }
    if (Array.isArray(patch.credentials)) {
      set.push('credentials = :credentials');
      values[':credentials'] = patch.credentials;
    }
    const remove = [
      ...(patch.budgetMicros === null ? ['budgetMicros'] : []),
      ...(patch.credentials === null ? ['credentials'] : []),
    ];
    return this.write(teamId, {
      UpdateExpression: `SET ${set.join(', ')}${remove.length === 0 ? '' : ` REMOVE ${remove.join(', ')}`} ADD rev :one`,
      ...(patch.name === undefined ? {} : { ExpressionAttributeNames: { '#name': 'name' } }),
      ExpressionAttributeValues: values,
    });
  }

  /**
   * Deletes a team once `checkEmpty` (which throws while keys belong to it) has passed. Every key placed in
   * a team moves the team's `keyEpoch` in the same transaction (see `teamMark` in `team-mark.ts`), and the
   * delete holds only while the epoch is the one read before the check: a key created meanwhile makes it
   * fail with 409, so no key is ever left in a team that no longer exists.
   */
  async delete(teamId: string, checkEmpty: () => Promise<void> = async () => {}): Promise<void> {
    if (!isStoredId(teamId)) throw new RecordNotFoundError('team', teamId);
    const before = await this.db.get({ TableName: this.table, Key: { teamId }, ConsistentRead: true });
    if (before.Item === undefined) throw new RecordNotFoundError('team', teamId);
    const keyEpoch = Number(before.Item.keyEpoch ?? 0);
    await checkEmpty();
    // Stamp the deleter first: the stream's REMOVE record carries only the old image.
    const lastChange = this.change('team.delete');
    await this.stamp(teamId, lastChange, { keyEpoch });
    try {
      // Only while the item still carries this delete's stamp, so no other change is lost unaudited.
      await this.db.delete({
        TableName: this.table,
        Key: { teamId },
        ConditionExpression: 'lastChange.changeId = :changeId',
        ExpressionAttributeValues: { ':changeId': lastChange.changeId },
      });
    } catch (err) {
      if (isConditionalCheckFailed(err)) throw await this.lostRace(teamId, err);
      throw err;
    }
  }

  /** Why a conditional write found nothing to change: the team is gone, or someone changed it first. */
  private async lostRace(teamId: string, cause: unknown): Promise<Error> {
    return (await this.get(teamId)) === undefined
      ? new RecordNotFoundError('team', teamId)
      : new ConcurrentChangeError('team', teamId, { cause });
  }

  /** Stamps a change (and a status); with `keyEpoch`, only while no key was placed in the team since. */
  private stamp(
    teamId: string,
    lastChange: ReturnType<TeamStore['change']>,
    expect: { status?: Team['status']; keyEpoch?: number } = {},
  ): Promise<Team> {
    const { status, keyEpoch } = expect;
    return this.write(
      teamId,
      {
        UpdateExpression:
          status === undefined
            ? 'SET updatedAt = :at, lastChange = :change ADD rev :one'
            : 'SET #status = :status, updatedAt = :at, lastChange = :change ADD rev :one',
        ...(status === undefined ? {} : { ExpressionAttributeNames: { '#status': 'status' } }),
        ExpressionAttributeValues: {
          ':at': lastChange.at,
          ':change': lastChange,
          ':one': 1,
          ...(status === undefined ? {} : { ':status': status }),
          ...(keyEpoch === undefined || keyEpoch === 0 ? {} : { ':epoch': keyEpoch }),
        },
      },
      keyEpoch === undefined
        ? ''
        : keyEpoch === 0
          ? ' AND attribute_not_exists(keyEpoch)'
          : ' AND keyEpoch = :epoch',
    );
  }

  /** One update of an existing team (and `condition`, appended); every change counts in `rev`. */
  private async write(
    teamId: string,
    update: Pick<
      UpdateCommandInput,
      'UpdateExpression' | 'ExpressionAttributeNames' | 'ExpressionAttributeValues'
    >,
    condition = '',
  ): Promise<Team> {
    if (!isStoredId(teamId)) throw new RecordNotFoundError('team', teamId);
    try {
      const out = await this.db.update({
        TableName: this.table,
        Key: { teamId },
        ...update,
        ConditionExpression: `attribute_exists(teamId)${condition}`,
        ReturnValues: 'ALL_NEW',
      });
      return withoutChange(out.Attributes);
    } catch (err) {
      if (isConditionalCheckFailed(err)) throw await this.lostRace(teamId, err);
      throw err;
    }
  }
}
