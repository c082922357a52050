/**
 * Model discovery: the catalogue of a provider registered without `--models`, read from the upstream's own
 * list endpoint (OpenAI `/models`, Anthropic `/v1/models`, Gemini `/v1beta/models`) with its credential,
 * following its pagination. Redirects are not followed, as on the request path.
 */
import { adapterFor, type ProviderType } from './index.ts';

/** At most this many pages are read, so a misbehaving upstream cannot loop us. */
const MAX_PAGES = 50;

/** Why a catalogue could not be discovered; the message says what to do instead. */
export class DiscoveryError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'DiscoveryError';
  }
}

/** The upstream's model ids, in its order, without duplicates. */
export async function discoverModels(
  provider: { type: ProviderType; baseUrl: string },
  credential: string,
  fetchImpl: typeof fetch = fetch,
): Promise<string[]> {
  const adapter = adapterFor(provider.type);
  const listing = adapter.modelList;
  if (listing === undefined)
    throw new DiscoveryError(`a ${provider.type} provider cannot list its models: give them with --models`);
  const headers: Record<string, string> = { ...adapter.authHeaders(credential) };
  for (const [name, fallback] of Object.entries(adapter.forwardHeaders))
    if (fallback !== undefined) headers[name] = fallback;
  const ids: string[] = [];
  let query = '';
  for (let page = 0; page < MAX_PAGES; page += 1) {
    const url = `${provider.baseUrl}${listing.path}${query}`;
    let response: Response;
    try {
      response = await fetchImpl(url, { headers, redirect: 'manual', signal: AbortSignal.timeout(15_000) });
    } catch (err) {
      throw new DiscoveryError(
        `cannot reach ${provider.baseUrl} to list its models: give them with --models`,
        {
          cause: err,
        },
      );
    }
    if (!response.ok) {
      await response.body?.cancel();
      throw new DiscoveryError(
        `the upstream answered ${response.status} to GET ${listing.path.split('?')[0]}: check the credential, or give the models with --models`,
      );
    }
    const { ids: found, next } = listing.read(await response.json());
    ids.push(...found);
    if (next === undefined) break;
    query = next;
  }
  return [...new Set(ids)];
}
