/**
 * How keys and teams look on every wire Tollgate answers on (CLI `--json`, `/admin`): a record's own id
 * is `id`, a reference to another record is `<kind>Id` (`teamId`), money is in USD in fields ending in
 * `Usd` — the very names operators send (`monthlyLimitUsd`, `budgetUsd`). Stores keep micro-USD.
 */
import { microsToUsd } from '../proxy/estimate.ts';
import type { KeyView } from '../store/keys.ts';
import type { Team } from '../store/teams.ts';

/** A key as operators see it. */
export interface ShownKey extends Omit<KeyView, 'keyId' | 'monthlyLimitMicros' | 'status'> {
  id: string;
  /** `expired` once the expiry has passed, whatever the stored status. */
  status: KeyView['status'] | 'expired';
  monthlyLimitUsd?: number;
}

/** A team as operators see it. */
export interface ShownTeam extends Omit<Team, 'teamId' | 'budgetMicros'> {
  id: string;
  budgetUsd?: number;
}

/** The key as shown; `now` is the clock of the expiry check. */
export function shownKey(key: KeyView, now: Date = new Date()): ShownKey {
  const { keyId, monthlyLimitMicros, status, ...rest } = key;
  return {
    id: keyId,
    ...rest,
    status: key.expiresAt !== undefined && key.expiresAt <= now.toISOString() ? 'expired' : status,
    ...(monthlyLimitMicros === undefined ? {} : { monthlyLimitUsd: microsToUsd(monthlyLimitMicros) }),
  };
}

/** The team as shown. */
export function shownTeam(team: Team): ShownTeam {
  const { teamId, budgetMicros, ...rest } = team;
  return {
    id: teamId,
    ...rest,
    ...(budgetMicros === undefined ? {} : { budgetUsd: microsToUsd(budgetMicros) }),
  };
}
