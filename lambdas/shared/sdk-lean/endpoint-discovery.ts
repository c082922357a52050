/**
 * What the Lambda bundles use in place of `@aws-sdk/middleware-endpoint-discovery` (aliased by
 * lib/bundling.ts). The DynamoDB client resolves endpoint-discovery settings and builds a 1,000-entry LRU
 * cache of discovered endpoints, about 8 KB with its `mnemonist` dependency, yet none of its operations
 * adds the discovery middleware that would read them. This keeps the settings (the same environment
 * variables and the same validation) and drops the cache; a client whose operations use the discovery
 * plugin fails the build (esbuild: no matching export) instead of shipping without it.
 */

const ENV = ['AWS_ENABLE_ENDPOINT_DISCOVERY', 'AWS_ENDPOINT_DISCOVERY_ENABLED'] as const;
const CONFIG = 'endpoint_discovery_enabled';
const enabled = (value: string): boolean => value !== 'false' && value !== '0';

/** The SDK's loader options for `endpointDiscoveryEnabled`: environment first, then the shared config file. */
export const NODE_ENDPOINT_DISCOVERY_CONFIG_OPTIONS = {
  environmentVariableSelector: (env: Record<string, string | undefined>): boolean | undefined => {
    for (const name of ENV) {
      if (!(name in env)) continue;
      const value = env[name] ?? '';
      if (value === '') throw new Error(`Environment variable ${name} can't be empty of undefined, got ""`);
      return enabled(value);
    }
    return undefined;
  },
  configFileSelector: (profile: Record<string, string | undefined>): boolean | undefined => {
    if (!(CONFIG in profile)) return undefined;
    const value = profile[CONFIG];
    if (value === undefined) throw new Error(`Shared config entry ${CONFIG} can't be undefined`);
    return enabled(value);
  },
  default: undefined,
};

interface Input {
  endpointDiscoveryEnabled?: boolean | undefined;
  endpointDiscoveryEnabledProvider: () => Promise<boolean | undefined>;
}

/** The client's endpoint-discovery settings, as the SDK resolves them, without the endpoint cache. */
export const resolveEndpointDiscoveryConfig = <T extends Input>(
  input: T,
  { endpointDiscoveryCommandCtor }: { endpointDiscoveryCommandCtor: unknown },
) => {
  // Read before the assignment below replaces it on the same object.
  const configured = input.endpointDiscoveryEnabled;
  return Object.assign(input, {
    endpointDiscoveryCommandCtor,
    endpointDiscoveryEnabled:
      configured === undefined ? input.endpointDiscoveryEnabledProvider : () => Promise.resolve(configured),
    isClientEndpointDiscoveryEnabled: configured !== undefined,
  });
};
