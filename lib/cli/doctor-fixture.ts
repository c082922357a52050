/**
 * What `tollgate doctor` registers for its run, through the same stores as every CLI command (so every
 * change is attributed and audited), and removes afterwards: an echo provider with a priced model, and
 * keys with the limits the checks need.
 */
import { randomBytes } from 'node:crypto';
import type { Stores } from './context.ts';

/** The echo model doctor prices and calls. */
export const ECHO_MODEL = 'echo-1';

/** The keys of a run, by what they are for. */
export interface DoctorKeys {
  /** No limits. */
  main: string;
  /** A monthly limit of one micro-dollar: any priced request exceeds it. */
  tiny: string;
  /** One request per minute. */
  rpm1: string;
  /** Disabled halfway through its check. */
  revoked: string;
}

/** A registered fixture. */
export interface DoctorFixture {
  provider: string;
  /** `provider/echo-1`. */
  slug: string;
  keys: DoctorKeys;
  keyIds: Record<keyof DoctorKeys, string>;
  /** Removes everything registered (each removal audited like any other). */
  remove(): Promise<void>;
  /** `table:id` of every item doctor created, for the audit check. */
  targets: string[];
}

/** Registers the fixture; on failure halfway, removes what was registered and rethrows. */
export async function registerFixture(stores: Stores): Promise<DoctorFixture> {
  const suffix = randomBytes(4).toString('hex');
  const provider = `doctor-echo-${suffix}`;
  const slug = `${provider}/${ECHO_MODEL}`;
  const keyIds: Partial<Record<keyof DoctorKeys, string>> = {};
  const keys: Partial<DoctorKeys> = {};
  let providerAdded = false;
  const remove = async (): Promise<void> => {
    for (const id of Object.values(keyIds)) await stores.keys.delete(id);
    if (providerAdded) await stores.providers.remove(provider);
  };
  try {
    await stores.providers.add(
      { name: provider, type: 'echo', baseUrl: 'http://echo.invalid', models: [ECHO_MODEL] },
      undefined,
    );
    providerAdded = true;
    // One micro-dollar per token: any request costs more than the tiny key's limit.
    await stores.providers.setPrice(provider, ECHO_MODEL, { inputPerMTok: 1, outputPerMTok: 1 });
    const specs: Record<keyof DoctorKeys, { monthlyLimitMicros?: number; rpm?: number }> = {
      main: {},
      tiny: { monthlyLimitMicros: 1 },
      rpm1: { rpm: 1 },
      revoked: {},
    };
    for (const [role, limits] of Object.entries(specs) as Array<[keyof DoctorKeys, (typeof specs)['main']]>) {
      const created = await stores.keys.create({
        name: `doctor-${suffix}-${role}`,
        models: [`${provider}/*`],
        ...limits,
      });
      keyIds[role] = created.key.keyId;
      keys[role] = created.plaintext;
    }
  } catch (err) {
    await remove().catch(() => undefined);
    throw err;
  }
  return {
    provider,
    slug,
    keys: keys as DoctorKeys,
    keyIds: keyIds as Record<keyof DoctorKeys, string>,
    remove,
    targets: [`providers:${provider}`, ...Object.values(keyIds).map((id) => `keys:${id}`)],
  };
}
