/** Who the CLI acts as: the IAM principal against a deployed stack, the operating-system user locally. */
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import type { Actor } from '#shared/store/attribution.ts';

/** The caller's IAM principal ARN, from STS GetCallerIdentity, for changes made against a deployed stack. */
export async function awsActor(client: STSClient = new STSClient({})): Promise<Actor> {
  const out = await client.send(new GetCallerIdentityCommand({}));
  if (out.Arn === undefined || out.Arn === '') throw new Error('STS did not say who is calling');
  return { id: out.Arn };
}
