/**
 * Keys and teams are named by id or by their unique name, wherever an operator names one. An id wins; a
 * name shared by several records is refused with the candidates, never guessed.
 */
import type { KeyView } from '../store/keys.ts';
import type { Team } from '../store/teams.ts';
import { ConflictError, InvalidError, NotFoundError } from './errors.ts';
import type { ManagementStores } from './schema.ts';

function byName<T extends { name: string }>(
  kind: string,
  ref: string,
  all: readonly T[],
  idOf: (record: T) => string,
): T | undefined {
  const named = all.filter((record) => record.name === ref);
  if (named.length > 1)
    throw new ConflictError(
      // Sorted: the store lists in hash order, and the same refusal should read the same every time.
      `${named.length} ${kind}s are named '${ref}': ${named.map(idOf).sort().join(', ')}; give the id`,
    );
  return named[0];
}

/** The key with id or unique name `ref`. @throws {NotFoundError} {ConflictError} */
export async function resolveKey(stores: ManagementStores, ref: string): Promise<KeyView> {
  const found = (await stores.keys.get(ref)) ?? byName('key', ref, await stores.keys.list(), (k) => k.keyId);
  if (found === undefined) throw new NotFoundError(`key '${ref}' not found`);
  return found;
}

/** The team with id or unique name `ref`. @throws {NotFoundError} {ConflictError} */
export async function resolveTeam(stores: ManagementStores, ref: string): Promise<Team> {
  const found =
    (await stores.teams.get(ref)) ?? byName('team', ref, await stores.teams.list(), (t) => t.teamId);
  if (found === undefined) throw new NotFoundError(`team '${ref}' not found`);
  return found;
}

/** The id of the team a key is to belong to; a missing team is bad input to the key operation. */
export async function teamIdFor(
  stores: ManagementStores,
  ref: string | undefined,
): Promise<string | undefined> {
  if (ref === undefined) return undefined;
  try {
    return (await resolveTeam(stores, ref)).teamId;
  } catch (err) {
    if (err instanceof NotFoundError)
      throw new InvalidError(`no team '${ref}' (see 'tollgate teams list')`, { field: 'team', cause: err });
    throw err;
  }
}
