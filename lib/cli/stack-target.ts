/**
 * `tollgate --stack NAME [--region R]`: points the CLI at a deployed stack. The stack's outputs name the
 * tables and keys; the env contract is set from them, so the very same stores run against AWS, with the
 * caller's IAM principal (STS GetCallerIdentity) as the actor of every change.
 */
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { ENV, readEnv } from '#shared/env.ts';
import { documentClient } from '#shared/store/sdk-db.ts';
import { storesFromEnv as buildStores } from '#shared/store/stores.ts';
import { awsActor } from './actor.ts';
import type { Stores } from './context.ts';
import { UsageError } from './output.ts';

/** The stack outputs the CLI needs, and the env-contract variable each one sets. */
const OUTPUTS: Readonly<Record<string, (value: string) => [string, string]>> = {
  KeysTableName: (v) => [ENV.keysTable, v],
  TeamsTableName: (v) => [ENV.teamsTable, v],
  ProvidersTableName: (v) => [ENV.providersTable, v],
  UsageTableName: (v) => [ENV.usageTable, v],
  RequestLogTableName: (v) => [ENV.requestLogTable, v],
  AuditTableName: (v) => [ENV.auditTable, v],
  KeyArn: (v) => [ENV.keyring, `kms:${v}`],
  AuditSigningKeyArn: (v) => [ENV.auditSigner, `kms:${v}`],
  AuditDigestBucketName: (v) => [ENV.auditDigestStore, `s3:${v}`],
  // How long a split change waits out cached limits near a month's end (see `Meter.monthBegun`).
  AuthorizerCacheTtlSeconds: (v) => [ENV.callerCacheSeconds, v],
};

/** Reads the stack's outputs, sets the env contract from them and returns them all by key. */
export async function applyStackEnv(
  stackName: string,
  region: string | undefined,
  target: NodeJS.ProcessEnv = process.env,
): Promise<Record<string, string>> {
  if (region !== undefined) target.AWS_REGION = region;
  const client = new CloudFormationClient(region === undefined ? {} : { region });
  let outputs: Array<{ OutputKey?: string; OutputValue?: string }>;
  try {
    const out = await client.send(new DescribeStacksCommand({ StackName: stackName }));
    outputs = out.Stacks?.[0]?.Outputs ?? [];
  } catch (err) {
    const name = (err as Error).name;
    if (name === 'ValidationError')
      throw new UsageError(`no stack '${stackName}'${region === undefined ? '' : ` in ${region}`}`);
    throw new Error(`cannot read stack '${stackName}': ${(err as Error).message}`);
  } finally {
    client.destroy();
  }
  for (const [key, apply] of Object.entries(OUTPUTS)) {
    const value = outputs.find((o) => o.OutputKey === key)?.OutputValue;
    if (value === undefined)
      throw new Error(`stack '${stackName}' has no output ${key}: is it a Tollgate stack?`);
    const [name, envValue] = apply(value);
    target[name] = envValue;
  }
  return Object.fromEntries(
    outputs.flatMap((o) => (o.OutputKey === undefined ? [] : [[o.OutputKey, o.OutputValue ?? '']])),
  );
}

/** Runs `work` against a deployed stack's stores, as the caller's IAM principal. */
export async function withStackStores<T>(
  stackName: string,
  region: string | undefined,
  work: (stores: Stores, outputs: Record<string, string>) => Promise<T>,
): Promise<T> {
  const outputs = await applyStackEnv(stackName, region);
  const actor = await awsActor();
  // The SDK's client, for the operator's whole credential chain (profiles, SSO) and configured region.
  return work({ ...buildStores(readEnv(), actor, documentClient()), local: false }, outputs);
}
