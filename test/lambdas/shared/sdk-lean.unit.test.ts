/**
 * The SDK modules the Lambda bundles put in place of the real ones (lib/bundling.ts) behave as the real
 * ones where a bundle reaches them: the same endpoint-discovery settings from the same environment, and an
 * event-stream capability that refuses clearly instead of failing somewhere inside the SDK.
 */
import * as real from '@aws-sdk/middleware-endpoint-discovery';
import { describe, expect, it } from 'vitest';
import * as lean from '../../../lambdas/shared/sdk-lean/endpoint-discovery.ts';
import {
  EventStreamSerde,
  eventStreamSerdeProvider,
} from '../../../lambdas/shared/sdk-lean/event-streams.ts';

const ENVIRONMENTS: Array<Record<string, string>> = [
  {},
  { AWS_ENABLE_ENDPOINT_DISCOVERY: 'true' },
  { AWS_ENABLE_ENDPOINT_DISCOVERY: 'false' },
  { AWS_ENABLE_ENDPOINT_DISCOVERY: '0' },
  { AWS_ENDPOINT_DISCOVERY_ENABLED: '1' },
  { AWS_ENABLE_ENDPOINT_DISCOVERY: 'false', AWS_ENDPOINT_DISCOVERY_ENABLED: 'true' },
  { AWS_ENABLE_ENDPOINT_DISCOVERY: '' },
];
const PROFILES: Array<Record<string, string | undefined>> = [
  {},
  { endpoint_discovery_enabled: 'true' },
  { endpoint_discovery_enabled: 'false' },
  { endpoint_discovery_enabled: undefined },
];

/** What a selector returns, or that it threw. */
const outcome = (select: () => boolean | undefined) => {
  try {
    return { value: select() };
  } catch {
    return { threw: true };
  }
};

describe('the endpoint-discovery stand-in', () => {
  it.each(ENVIRONMENTS)('reads %o as the SDK does', (env) => {
    expect(
      outcome(() => lean.NODE_ENDPOINT_DISCOVERY_CONFIG_OPTIONS.environmentVariableSelector(env)),
    ).toEqual(outcome(() => real.NODE_ENDPOINT_DISCOVERY_CONFIG_OPTIONS.environmentVariableSelector(env)));
  });

  it.each(PROFILES)('reads the profile %o as the SDK does', (profile) => {
    expect(outcome(() => lean.NODE_ENDPOINT_DISCOVERY_CONFIG_OPTIONS.configFileSelector(profile))).toEqual(
      outcome(() => real.NODE_ENDPOINT_DISCOVERY_CONFIG_OPTIONS.configFileSelector(profile)),
    );
    expect(lean.NODE_ENDPOINT_DISCOVERY_CONFIG_OPTIONS.default).toBe(
      real.NODE_ENDPOINT_DISCOVERY_CONFIG_OPTIONS.default,
    );
  });

  it.each([undefined, true, false])(
    'resolves endpointDiscoveryEnabled=%s to the same settings, without the cache',
    async (endpointDiscoveryEnabled) => {
      // Prepare
      const input = () => ({
        endpointDiscoveryEnabled,
        endpointDiscoveryEnabledProvider: async () => true,
      });
      const command = class DescribeEndpoints {};

      // Act
      const mine = lean.resolveEndpointDiscoveryConfig(input(), { endpointDiscoveryCommandCtor: command });
      const { endpointCache, ...theirs } = real.resolveEndpointDiscoveryConfig(
        input() as Parameters<typeof real.resolveEndpointDiscoveryConfig>[0],
        {
          endpointDiscoveryCommandCtor: command as never,
        },
      );

      // Assess
      expect(endpointCache).toBeDefined();
      expect(Object.keys(mine).sort()).toEqual(Object.keys(theirs).sort());
      expect(mine.isClientEndpointDiscoveryEnabled).toBe(theirs.isClientEndpointDiscoveryEnabled);
      expect(mine.endpointDiscoveryCommandCtor).toBe(command);
      expect(await mine.endpointDiscoveryEnabled()).toBe(await theirs.endpointDiscoveryEnabled());
    },
  );
});

describe('the event-stream stand-in', () => {
  it('refuses with an error that names what to change', () => {
    expect(() => new EventStreamSerde()).toThrow(/no event-stream support.*lib\/bundling\.ts/);
    expect(() => eventStreamSerdeProvider()).toThrow(/no event-stream support/);
  });
});
