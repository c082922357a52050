/**
 * What the Lambda bundles use in place of the SDK's default credential chain (`@aws-sdk/credential-provider-node`,
 * aliased to this module by lib/bundling.ts): on Lambda the only credentials are the execution role's, in
 * the environment, so the chain's SSO, STS, web-identity, process, ini and IMDS code need not ship — about a
 * third of each bundle, and its import time. The local gateway and the CLI keep the full chain.
 */
import { fromEnv } from '@aws-sdk/credential-provider-env';

type Init = Parameters<typeof fromEnv>[0];

/** The default chain, reduced to its first link: `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`. */
export const defaultProvider = (init: Init = {}) => fromEnv(init);

/** Whether credentials expire within five minutes (the SDK's own rule). */
export const credentialsWillNeedRefresh = (credentials: { expiration?: Date }): boolean =>
  credentials.expiration !== undefined && credentials.expiration.getTime() - Date.now() < 300_000;

/** The SDK's name for the same check. */
export const credentialsTreatedAsExpired = credentialsWillNeedRefresh;
