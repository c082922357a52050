/** `tollgate teams …`: thin calls of the team operations. */

import type { ShownTeam } from '#shared/operations/present.ts';
import {
  createTeam,
  deleteTeam,
  disableTeam,
  enableTeam,
  listTeams,
  setTeamShards,
  showTeam,
  updateTeam,
} from '#shared/operations/teams.ts';
import type { CommandEntry } from './command-spec.ts';
import { operationCommand } from './operation-command.ts';
import { printTable } from './output.ts';

/** The ID positional of every command on one team. */
const TEAM_REF = [{ name: 'ID', field: 'id' }] as const;

function printTeams(teams: readonly ShownTeam[]): void {
  printTable(
    ['ID', 'NAME', 'STATUS', 'BUDGET USD/MO'],
    teams.map((t) => [t.id, t.name, t.status, t.budgetUsd === undefined ? '-' : String(t.budgetUsd)]),
  );
}

const statusLine = (team: ShownTeam) => process.stdout.write(`Team ${team.id} is now ${team.status}.\n`);

/** The `teams` commands. */
export const TEAM_COMMANDS: readonly CommandEntry[] = [
  operationCommand({
    name: 'teams create',
    summary: 'a team (workspace) with an optional monthly budget',
    options: {
      name: { type: 'string', value: 'NAME', summary: 'a unique name', required: true },
      budget: { type: 'string', value: 'USD', summary: 'monthly budget in USD', field: 'budgetUsd' },
      credentials: {
        type: 'string',
        value: 'LABEL,…',
        summary: 'its keys use only the provider credentials with these labels, unless a key has its own',
      },
    },
    examples: [
      'tollgate teams create --name platform --budget 500',
      'tollgate teams create --name acct-a --credentials team-a',
    ],
    operation: createTeam,
    print: (team) => process.stdout.write(`Created team ${team.id} (${team.name}).\n`),
  }),
  operationCommand({
    name: 'teams list',
    summary: 'every team',
    examples: ['tollgate teams list --json'],
    operation: listTeams,
    print: printTeams,
  }),
  operationCommand({
    name: 'teams show',
    summary: "one team, by id or name, with its keys and this month's spend",
    positionals: TEAM_REF,
    examples: ['tollgate teams show platform'],
    operation: showTeam,
    print: (team) =>
      process.stdout.write(
        `${team.id} ${team.name} (${team.status}) — ${team.keys.length} key(s), ${team.spend.spentUsd} USD spent in ${team.spend.month}\n`,
      ),
  }),
  operationCommand({
    name: 'teams disable',
    summary: "refuse the team's keys until enabled again",
    positionals: TEAM_REF,
    examples: ['tollgate teams disable platform'],
    confirm: ({ args }) => `Disable team ${args.ID}? Its keys are refused until it is enabled.`,
    operation: disableTeam,
    print: statusLine,
  }),
  operationCommand({
    name: 'teams enable',
    summary: 'accept a disabled team again',
    positionals: TEAM_REF,
    examples: ['tollgate teams enable platform'],
    operation: enableTeam,
    print: statusLine,
  }),
  operationCommand({
    name: 'teams update',
    summary: "rename a team or change its budget; effective on its keys' next request",
    positionals: TEAM_REF,
    options: {
      name: { type: 'string', value: 'NAME', summary: 'a new name' },
      budget: { type: 'string', value: 'USD', summary: 'monthly budget in USD', field: 'budgetUsd' },
      clearBudget: { type: 'boolean', summary: 'no budget', field: 'budgetUsd', clears: true },
      credentials: {
        type: 'string',
        value: 'LABEL,…',
        summary: 'its keys use only the provider credentials with these labels, unless a key has its own',
      },
      clearCredentials: { type: 'boolean', summary: 'any credential', field: 'credentials', clears: true },
    },
    examples: [
      'tollgate teams update platform --budget 750',
      'tollgate teams update platform --name core',
      'tollgate teams update team-a --credentials team-a',
    ],
    operation: updateTeam,
    print: (team) => printTeams([team]),
  }),
  operationCommand({
    name: 'teams shards',
    summary: "split a busy team's monthly counters over N shards, from next month (see Admission at scale)",
    positionals: TEAM_REF,
    options: { count: { type: 'string', value: 'N', summary: 'shards, 1 to 100', required: true } },
    examples: ['tollgate teams shards platform --count 16'],
    operation: setTeamShards,
    print: (team) =>
      process.stdout.write(
        `Team ${team.id} will be admitted against ${team.budgetShards?.count ?? 1} shard(s) from ${team.budgetShards?.from ?? 'next month'}.\n`,
      ),
  }),
  operationCommand({
    name: 'teams delete',
    summary: 'remove a team without keys',
    positionals: TEAM_REF,
    examples: ['tollgate teams delete team_AbC123xyZ789'],
    confirm: ({ args }) => `Delete team ${args.ID}? This cannot be undone.`,
    operation: deleteTeam,
    print: (deleted) => process.stdout.write(`Team ${deleted.id} deleted.\n`),
  }),
];
