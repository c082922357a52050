/** Key operations: the rules of managing keys, once, under both the CLI and `/admin`. */
import { usdToMicros } from '../inputs.ts';
import type { KeyLimits, KeyPatch, KeyView } from '../store/keys.ts';
import { validateLabel } from '../store/providers.ts';
import { shardsEverUsed, shardsToRead } from '../store/shards.ts';
import { InvalidError } from './errors.ts';
import { type ShownKey, shownKey as shown } from './present.ts';
import { resolveKey, teamIdFor } from './resolve.ts';
import { parseRing, type RingEntry } from './ring.ts';
import {
  type Check,
  clearable,
  duration,
  flag,
  futureDate,
  list,
  type ManagementStores,
  operation,
  optional,
  positive,
  positiveInteger,
  shardCount,
  text,
} from './schema.ts';

/** The scope and limits a new key (or an imported one) may be given. */
export const keyScope = {
  models: optional(list),
  team: optional(text),
  monthlyLimitUsd: optional(positive),
  rpm: optional(positiveInteger),
  tpm: optional(positiveInteger),
};

/** The limits in the store's units. */
export function limitsOf(input: {
  monthlyLimitUsd?: number | undefined;
  rpm?: number | undefined;
  tpm?: number | undefined;
}): KeyLimits {
  return {
    ...(input.monthlyLimitUsd === undefined
      ? {}
      : { monthlyLimitMicros: usdToMicros(input.monthlyLimitUsd) }),
    ...(input.rpm === undefined ? {} : { rpm: input.rpm }),
    ...(input.tpm === undefined ? {} : { tpm: input.tpm }),
  };
}

const byRef = { id: text };

/** Credential labels a key or team is bound to: its requests use only those credentials. */
export const credentialLabels: Check<string[]> = (value, field) => {
  const labels = list(value, field);
  if (labels.length === 0) throw new InvalidError(`${field} needs at least one label`, { field });
  return [...new Set(labels.map(validateLabel))];
};

/** A new key; the plaintext is in this result only. */
export const createKey = operation(
  'createKey',
  { name: text, ...keyScope, credentials: optional(credentialLabels), expires: optional(futureDate) },
  async (stores, input) => {
    const teamId = await teamIdFor(stores, input.team);
    const created = await stores.keys.create({
      name: input.name,
      models: input.models ?? [],
      ...(input.credentials === undefined ? {} : { credentials: input.credentials }),
      ...limitsOf(input),
      ...(teamId === undefined ? {} : { teamId }),
      ...(input.expires === undefined ? {} : { expiresAt: input.expires }),
    });
    return { ...shown(created.key), key: created.plaintext };
  },
);

/** Every key, or a team's. */
export const listKeys = operation('listKeys', { team: optional(text) }, async (stores, input) => {
  const teamId = await teamIdFor(stores, input.team);
  const keys = await stores.keys.list(teamId === undefined ? {} : { teamId });
  return Promise.all(keys.map((k) => withUse(stores, k)));
});

/** One key, by id or name. */
export const showKey = operation('showKey', byRef, async (stores, input) =>
  withUse(stores, await resolveKey(stores, input.id)),
);

/** A key as listed: with its admitted requests over all months and when it was last used. */
export interface ListedKey extends ShownKey {
  requests: number;
  lastUsedAt: string | null;
}

async function withUse(stores: ManagementStores, key: KeyView): Promise<ListedKey> {
  const use = await stores.meter.keyStats(key.keyId, shardsEverUsed(key.monthShards));
  return { ...shown(key), requests: use.requests, lastUsedAt: use.lastUsedAt ?? null };
}

function statusChange(name: string, status: KeyView['status']) {
  return operation(name, byRef, async (stores, input) =>
    shown(await stores.keys.setStatus((await resolveKey(stores, input.id)).keyId, status)),
  );
}

/** Refuses the key until enabled again. */
export const disableKey = statusChange('disableKey', 'disabled');
/** Accepts a disabled key again. */
export const enableKey = statusChange('enableKey', 'active');

/** A new secret for the same key; the old one works for `grace` more, or not at all. */
export const rotateKey = operation(
  'rotateKey',
  { ...byRef, grace: optional(duration) },
  async (stores, input) => {
    const rotated = await stores.keys.rotate((await resolveKey(stores, input.id)).keyId, input.grace ?? 0);
    return { ...shown(rotated.key), key: rotated.plaintext };
  },
);

/** Removes the key; its request log stays. */
export const deleteKey = operation('deleteKey', byRef, async (stores, input) => {
  const key = await resolveKey(stores, input.id);
  await stores.keys.delete(key.keyId);
  return { id: key.keyId, deleted: true };
});

const ring: Check<RingEntry[]> = (value, field) => parseRing(text(value, field));

/**
 * Imports a ring of key hashes issued elsewhere. Hashes already imported are kept as they are, so
 * importing the same ring again changes nothing; `sync` also deletes imported keys the ring no longer has.
 */
export const importKeys = operation(
  'importKeys',
  { ring, ...keyScope, sync: flag },
  async (stores, input) => {
    const teamId = await teamIdFor(stores, input.team);
    const index = await stores.keys.importedIndex(true);
    const added: ShownKey[] = [];
    const kept: string[] = [];
    for (const entry of input.ring) {
      const existing = index[entry.hash];
      if (existing !== undefined) {
        kept.push(existing);
        continue;
      }
      added.push(
        shown(
          await stores.keys.importHash(entry.label, entry.hash, {
            models: input.models ?? [],
            ...limitsOf(input),
            ...(teamId === undefined ? {} : { teamId }),
          }),
        ),
      );
    }
    const removed: Array<{ id: string; name: string }> = [];
    if (input.sync) {
      const wanted = new Set(input.ring.map((e) => e.hash));
      for (const [hash, keyId] of Object.entries(index)) {
        if (wanted.has(hash)) continue;
        const key = await stores.keys.get(keyId);
        await stores.keys.delete(keyId);
        removed.push({ id: keyId, name: key?.name ?? '' });
      }
    }
    return { added, kept, removed };
  },
);

/**
 * Changes a key's name, scope or limits; `null` (the CLI's `--clear-*`) removes a limit, the team or the
 * expiry. Effective on the key's next request: admission checks the cached authorizer context's revision.
 */
export const updateKey = operation(
  'updateKey',
  {
    ...byRef,
    name: optional(text),
    models: optional(list),
    credentials: clearable(credentialLabels),
    team: clearable(text),
    monthlyLimitUsd: clearable(positive),
    rpm: clearable(positiveInteger),
    tpm: clearable(positiveInteger),
    expires: clearable(futureDate),
  },
  async (stores, input) => {
    const key = await resolveKey(stores, input.id);
    const patch: KeyPatch = {
      ...(input.name === undefined ? {} : { name: input.name }),
      ...(input.models === undefined ? {} : { models: input.models }),
      ...(input.credentials === undefined ? {} : { credentials: input.credentials }),
      ...(input.team === undefined
        ? {}
        : { teamId: input.team === null ? null : await teamIdFor(stores, input.team) }),
      ...(input.monthlyLimitUsd === undefined
        ? {}
        : { monthlyLimitMicros: input.monthlyLimitUsd === null ? null : usdToMicros(input.monthlyLimitUsd) }),
      ...(input.rpm === undefined ? {} : { rpm: input.rpm }),
      ...(input.tpm === undefined ? {} : { tpm: input.tpm }),
      ...(input.expires === undefined ? {} : { expiresAt: input.expires }),
    };
    if (Object.keys(patch).length === 0) throw new InvalidError('nothing to change: give at least one field');
    return shown(await stores.keys.edit(key.keyId, patch));
  },
);

/**
 * Splits a busy key's monthly counters over `count` shards from next month (this month keeps the split
 * its admissions were made against; see `shards.ts`). Each shard admits within its slice of the key's
 * monthly limit, so a request must fit one slice.
 */
export const setKeyShards = operation(
  'setKeyShards',
  { ...byRef, count: shardCount },
  async (stores, input) => {
    const key = await resolveKey(stores, input.id);
    const begun = stores.meter.monthBegun(`key#${key.keyId}`, shardsToRead(key.monthShards));
    return shown(await stores.keys.setShards(key.keyId, input.count, begun));
  },
);
