/**
 * `tollgate status [--check]`: credential health. Exit 0 when every provider has a working credential,
 * 1 when one has none (no credential, all expired, its last upstream error an auth failure, or — with
 * `--check` — no credential passing a live authenticated probe), 2 when a credential expires within 7 days.
 */
import { adapterFor } from '#shared/providers/index.ts';
import type { CredentialView } from '#shared/store/providers.ts';
import type { Stores } from './context.ts';
import { printJson, printTable } from './output.ts';

const EXPIRY_WARNING_MS = 7 * 24 * 3600 * 1000;

/** One credential's line in the report. */
export interface CredentialStatus extends CredentialView {
  provider: string;
  /** `ok` / `failing` after a probe, `unchecked` without `--check`. */
  check: 'ok' | 'failing' | 'unchecked';
  expiringSoon: boolean;
}

/** One provider's verdict. */
export interface ProviderStatus {
  provider: string;
  state: 'ok' | 'no_working_credential' | 'expiring';
  credentials: CredentialStatus[];
  lastError: { class: string; status?: number; at: string } | null;
}

async function probe(baseUrl: string, path: string, headers: Record<string, string>): Promise<boolean> {
  try {
    const response = await fetch(`${baseUrl}${path}`, {
      headers,
      redirect: 'manual',
      signal: AbortSignal.timeout(10_000),
    });
    await response.body?.cancel();
    return response.ok;
  } catch {
    return false;
  }
}

/** Builds the report; `check` probes each usable credential with the adapter's free authenticated GET. */
export async function providerStatuses(
  stores: Stores,
  check: boolean,
  now: Date = new Date(),
): Promise<ProviderStatus[]> {
  const statuses: ProviderStatus[] = [];
  for (const provider of await stores.providers.list()) {
    const views = await stores.providers.listCredentials(provider.provider);
    const health = await stores.usage.health(provider.provider);
    const nowIso = now.toISOString();
    const probes = new Map<string, boolean>();
    if (check && views.length > 0) {
      const resolved = await stores.providers.resolve(provider.provider);
      const adapter = adapterFor(provider.type);
      for (const credential of resolved?.credentials ?? []) {
        probes.set(
          credential.credentialId,
          await probe(provider.baseUrl, adapter.probePath, adapter.authHeaders(credential.secret)),
        );
      }
    }
    const credentials: CredentialStatus[] = views.map((view) => {
      const probed = probes.get(view.credentialId);
      return {
        ...view,
        provider: provider.provider,
        check: probed === undefined ? 'unchecked' : probed ? 'ok' : 'failing',
        expiringSoon:
          view.expiresAt !== undefined && Date.parse(view.expiresAt) - now.getTime() < EXPIRY_WARNING_MS,
      };
    });
    const live = credentials.filter((c) => c.expiresAt === undefined || c.expiresAt > nowIso);
    const newestAdded =
      live
        .map((c) => c.createdAt)
        .sort()
        .at(-1) ?? '';
    // An auth failure after the newest credential was added means none of them is known to work.
    const authFailing =
      health !== undefined &&
      /^upstream_40[13]$/.test(health.lastErrorClass) &&
      health.lastErrorAt > newestAdded;
    // A provider answered in process (echo) works without any credential.
    const needsCredential = adapterFor(provider.type).inProcess === undefined;
    const noneWorking =
      needsCredential && (live.length === 0 || (check ? !live.some((c) => c.check === 'ok') : authFailing));
    statuses.push({
      provider: provider.provider,
      state: noneWorking
        ? 'no_working_credential'
        : credentials.some((c) => c.expiringSoon)
          ? 'expiring'
          : 'ok',
      credentials,
      lastError:
        health === undefined
          ? null
          : {
              class: health.lastErrorClass,
              at: health.lastErrorAt,
              ...(health.lastErrorStatus === undefined ? {} : { status: health.lastErrorStatus }),
            },
    });
  }
  return statuses;
}

/** Prints the report and returns the exit code. */
export async function statusCommand(
  stores: Stores,
  options: { json: boolean; check: boolean },
): Promise<number> {
  const statuses = await providerStatuses(stores, options.check);
  const code = statuses.some((s) => s.state === 'no_working_credential')
    ? 1
    : statuses.some((s) => s.state === 'expiring')
      ? 2
      : 0;
  if (options.json) printJson({ exitCode: code, providers: statuses });
  else {
    printTable(
      ['PROVIDER', 'STATE', 'CREDENTIAL', 'PRIORITY', 'EXPIRES', 'CHECK', 'LAST ERROR'],
      statuses.flatMap((s) =>
        (s.credentials.length === 0 ? [undefined] : s.credentials).map((c) => [
          s.provider,
          s.state,
          c?.credentialId ?? '-',
          c === undefined ? '-' : String(c.priority),
          c?.expiresAt ?? '-',
          c?.check ?? '-',
          s.lastError === null ? '-' : `${s.lastError.class} at ${s.lastError.at}`,
        ]),
      ),
    );
  }
  return code;
}
