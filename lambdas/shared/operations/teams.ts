/** Team operations: the rules of managing teams, once, under both the CLI and `/admin`. */
import { usdToMicros } from '../inputs.ts';
import { microsToUsd } from '../proxy/estimate.ts';
import { shardsToRead } from '../store/shards.ts';
import type { Team } from '../store/teams.ts';
import { InUseError, InvalidError } from './errors.ts';
import { credentialLabels } from './keys.ts';
import { shownTeam } from './present.ts';
import { resolveTeam } from './resolve.ts';
import { clearable, operation, optional, positive, shardCount, text } from './schema.ts';

const byRef = { id: text };

/** A new team with an optional monthly budget. */
export const createTeam = operation(
  'createTeam',
  { name: text, budgetUsd: optional(positive), credentials: optional(credentialLabels) },
  async (stores, input) =>
    shownTeam(
      await stores.teams.create(
        input.name,
        input.budgetUsd === undefined ? undefined : usdToMicros(input.budgetUsd),
        input.credentials,
      ),
    ),
);

/** Every team, by name. */
export const listTeams = operation('listTeams', {}, async (stores) =>
  (await stores.teams.list()).map(shownTeam),
);

/** One team with its keys and this month's spend. */
export const showTeam = operation('showTeam', byRef, async (stores, input) => {
  const team = await resolveTeam(stores, input.id);
  const keys = await stores.keys.list({ teamId: team.teamId });
  const spend = await stores.meter.monthSpend(
    `team#${team.teamId}`,
    new Date(),
    shardsToRead(team.budgetShards),
  );
  return {
    ...shownTeam(team),
    keys: keys.map((k) => k.keyId),
    spend: {
      month: spend.month,
      spentUsd: microsToUsd(spend.spentMicros),
      reservedUsd: microsToUsd(spend.reservedMicros),
    },
  };
});

function statusChange(name: string, status: Team['status']) {
  return operation(name, byRef, async (stores, input) =>
    shownTeam(await stores.teams.setStatus((await resolveTeam(stores, input.id)).teamId, status)),
  );
}

/** Refuses the team's keys until enabled again. */
export const disableTeam = statusChange('disableTeam', 'disabled');
/** Accepts a disabled team again. */
export const enableTeam = statusChange('enableTeam', 'active');

/** Removes a team; a team that still has keys cannot be deleted. */
export const deleteTeam = operation('deleteTeam', byRef, async (stores, input) => {
  const team = await resolveTeam(stores, input.id);
  await stores.teams.delete(team.teamId, async () => {
    const keys = await stores.keys.list({ teamId: team.teamId });
    if (keys.length > 0)
      throw new InUseError(`team ${team.teamId} still has ${keys.length} key(s); delete them first`);
  });
  return { id: team.teamId, deleted: true };
});

/** Renames a team or changes its budget (`null`: no budget); effective on its keys' next request. */
export const updateTeam = operation(
  'updateTeam',
  {
    ...byRef,
    name: optional(text),
    budgetUsd: clearable(positive),
    credentials: clearable(credentialLabels),
  },
  async (stores, input) => {
    const team = await resolveTeam(stores, input.id);
    if (input.name === undefined && input.budgetUsd === undefined && input.credentials === undefined)
      throw new InvalidError('nothing to change: give at least one field');
    const edited = await stores.teams.edit(team.teamId, {
      ...(input.name === undefined ? {} : { name: input.name }),
      ...(input.credentials === undefined ? {} : { credentials: input.credentials }),
      ...(input.budgetUsd === undefined
        ? {}
        : { budgetMicros: input.budgetUsd === null ? null : usdToMicros(input.budgetUsd) }),
    });
    return shownTeam(edited);
  },
);

/**
 * Splits a busy team's monthly counters over `count` shards from next month (this month keeps the split
 * its admissions were made against; see `shards.ts`).
 */
export const setTeamShards = operation(
  'setTeamShards',
  { ...byRef, count: shardCount },
  async (stores, input) => {
    const team = await resolveTeam(stores, input.id);
    const begun = stores.meter.monthBegun(`team#${team.teamId}`, shardsToRead(team.budgetShards));
    return shownTeam(await stores.teams.setBudgetShards(team.teamId, input.count, begun));
  },
);
