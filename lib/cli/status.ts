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
  /** The upstream's last refusal (401/403) of this credential, or null. */
  rejected: { status: number; at: string } | null;
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
      const probed = probes.get(view.id);
      const rejection = health?.rejected.find((r) => r.credentialId === view.id);
      return {
        ...view,
        provider: provider.provider,
        rejected: rejection === undefined ? null : { status: rejection.status, at: rejection.at },
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
    const lastError = health?.lastErrorClass === undefined ? undefined : health;
    const authFailing =
      (lastError !== undefined &&
        /^upstream_(40[13]|credential_rejected)$/.test(lastError.lastErrorClass ?? '') &&
        (lastError.lastErrorAt ?? '') > newestAdded) ||
      // Every live credential refused by the upstream since it was added.
      (live.length > 0 && live.every((c) => c.rejected !== null && c.rejected.at > c.createdAt));
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
        lastError === undefined
          ? null
          : {
              class: lastError.lastErrorClass ?? '',
              at: lastError.lastErrorAt ?? '',
              ...(lastError.lastErrorStatus === undefined ? {} : { status: lastError.lastErrorStatus }),
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
      ['PROVIDER', 'STATE', 'CREDENTIAL', 'LABEL', 'PRIORITY', 'EXPIRES', 'CHECK', 'REJECTED', 'LAST ERROR'],
      statuses.flatMap((s) =>
        (s.credentials.length === 0 ? [undefined] : s.credentials).map((c) => [
          s.provider,
          s.state,
          c?.id ?? '-',
          c?.label ?? '-',
          c === undefined ? '-' : String(c.priority),
          c?.expiresAt ?? '-',
          c?.check ?? '-',
          c?.rejected == null ? '-' : `${c.rejected.status} at ${c.rejected.at}`,
          s.lastError === null ? '-' : `${s.lastError.class} at ${s.lastError.at}`,
        ]),
      ),
    );
  }
  return code;
}
