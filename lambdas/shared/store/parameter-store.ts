/**
 * Reads one SSM Parameter Store SecureString (`GetParameter` with decryption) through the lean JSON 1.1
 * caller (lambdas/shared/sdk-lean/aws-json.ts), not `@aws-sdk/client-ssm`.
 */
import {
  AWS_JSON_SERVICES,
  type AwsJsonOptions,
  AwsServiceError,
  awsJsonClient,
  regionOfArn,
} from '../sdk-lean/aws-json.ts';

/** Where and as whom Parameter Store is called; tests point it at a fake. */
export type ParameterStoreOptions = AwsJsonOptions;

/** A reader of SecureString parameters by ARN. */
export function parameterReader(
  options: ParameterStoreOptions = {},
): (parameterArn: string) => Promise<string> {
  const call = awsJsonClient(AWS_JSON_SERVICES.ssm, options);
  return async (parameterArn) => {
    const answer = (await call({
      region: regionOfArn(parameterArn),
      operation: 'GetParameter',
      input: { Name: parameterArn, WithDecryption: true },
    })) as { Parameter?: { Value?: unknown } };
    const value = answer.Parameter?.Value;
    if (typeof value !== 'string')
      throw new AwsServiceError('InvalidResponse', 'the parameter has no value', { status: 200 });
    return value;
  };
}
