/**
 * A team's delete against a key joining it at the worst moment, on DynamoDB Local: after the delete found
 * no keys and before it removed the team. The delete must lose (409), never leave a key in a team that no
 * longer exists, and refuse on its retry because the team now has a key.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { ManagementStores } from '#shared/operations/schema.ts';
import { deleteTeam } from '#shared/operations/teams.ts';
import type { setupLocalEnv } from '../../../helpers/local-env.ts';

let env: Awaited<ReturnType<typeof setupLocalEnv>>;

beforeAll(async () => {
  const { setupLocalEnv } = await import('../../../helpers/local-env.ts');
  env = await setupLocalEnv();
});

/** How a key joins a team: created in it, or moved into it by `keys update`. */
const JOINS = {
  created: async (teamId: string) => (await env.stores.keys.create({ name: 'late', teamId })).key.keyId,
  moved: async (teamId: string) => {
    const { key } = await env.stores.keys.create({ name: 'mover' });
    return (await env.stores.keys.edit(key.keyId, { teamId })).keyId;
  },
};

/** The stores, with a key joining `teamId` right after the delete's check for keys. */
function keyJoinsAfterTheCheck(
  teamId: string,
  join: (teamId: string) => Promise<string>,
): ManagementStores & { joined: () => string | undefined } {
  let joined: string | undefined;
  const keys = Object.create(env.stores.keys) as typeof env.stores.keys;
  keys.list = async (filter) => {
    const seen = await env.stores.keys.list(filter);
    if (joined === undefined) joined = await join(teamId);
    return seen;
  };
  return { ...env.stores, keys, joined: () => joined };
}

describe('deleteTeam racing a new member', () => {
  it.each(Object.keys(JOINS) as Array<keyof typeof JOINS>)(
    'against a key %s into it: loses with 409 instead of orphaning the key, then refuses because the team has a key',
    async (how) => {
      // Prepare
      const team = await env.stores.teams.create(`raced-team-${how}`);
      const stores = keyJoinsAfterTheCheck(team.teamId, JOINS[how]);

      // Act
      const first = await deleteTeam
        .prepare({ id: team.teamId })(stores)
        .catch((err: unknown) => err);
      const retry = await deleteTeam
        .prepare({ id: team.teamId })(env.stores)
        .catch((err: unknown) => err);

      // Assess
      expect(first).toMatchObject({ status: 409, message: expect.stringMatching(/another writer/) });
      expect(retry).toMatchObject({ status: 409, message: expect.stringMatching(/still has 1 key/) });
      expect(await env.stores.teams.get(team.teamId)).toMatchObject({ name: `raced-team-${how}` });
      expect((await env.stores.keys.get(stores.joined() ?? ''))?.teamId).toBe(team.teamId);
    },
  );

  it('refuses a key for a team deleted before it was written, naming the team', async () => {
    // Prepare
    const team = await env.stores.teams.create('gone-team');
    await deleteTeam.prepare({ id: team.teamId })(env.stores);

    const { key } = await env.stores.keys.create({ name: 'would-move' });

    // Act
    // Both settled before either is assessed: a rejection left unobserved while the other is awaited is
    // an unhandled rejection, which fails the whole run.
    const [created, moved] = await Promise.allSettled([
      env.stores.keys.create({ name: 'orphan', teamId: team.teamId }),
      env.stores.keys.edit(key.keyId, { teamId: team.teamId }),
    ]);

    // Assess
    const refused = {
      status: 'rejected',
      reason: { status: 404, message: `team '${team.teamId}' not found` },
    };
    expect(created).toMatchObject(refused);
    expect(moved).toMatchObject(refused);
    expect((await env.stores.keys.get(key.keyId))?.teamId).toBeUndefined();
  });

  it('keeps what the team shows free of the mark', async () => {
    const team = await env.stores.teams.create('marked-team');
    await env.stores.keys.create({ name: 'member', teamId: team.teamId });
    expect(Object.keys((await env.stores.teams.get(team.teamId)) ?? {})).not.toContain('keyEpoch');
  });
});
