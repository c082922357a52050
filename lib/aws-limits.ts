/**
 * The AWS limits Tollgate lives within, in one place for the stack (which refuses settings beyond them at
 * synth) and the local gateway (which enforces them, so nothing passes locally that fails on AWS).
 * Sources (AWS documentation, checked for this release):
 * - API Gateway response streaming: integration timeout up to 15 min with `responseTransferMode: STREAM`;
 *   idle streams closed after 5 min on regional endpoints
 *   (https://docs.aws.amazon.com/apigateway/latest/developerguide/response-transfer-mode.html);
 * - buffered integrations: 29 s by default
 *   (https://docs.aws.amazon.com/apigateway/latest/developerguide/limits.html);
 * - Lambda `Invoke`: 6 MB synchronous payload (https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html);
 * - IAM: a role's inline policies together at most 10,240 characters, whitespace not counted
 *   (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html).
 */

import { regionOfArn } from '#shared/sdk-lean/aws-json.ts';

/** Limits, in milliseconds and bytes. */
export const AWS_LIMITS = {
  /** `TimeoutInMillis` ceiling of a `STREAM` integration. */
  streamedIntegrationTimeoutMs: 900_000,
  /** Default (and, without a quota increase, maximum) timeout of a buffered integration. */
  bufferedIntegrationTimeoutMs: 29_000,
  /** A regional stream with no byte for this long is closed by API Gateway. */
  regionalStreamIdleMs: 300_000,
  /** Lambda's synchronous invoke request payload (6 MB as Lambda counts it: 6 × 2^20 bytes). */
  lambdaSyncPayloadBytes: 6 * 1024 * 1024,
  /** Lambda's maximum function timeout. */
  lambdaMaxTimeoutMs: 900_000,
  /** Characters of all of a role's inline policies (CDK's policies are inline), whitespace not counted. */
  rolePolicyChars: 10_240,
} as const;

/**
 * The proxy role's policy without any secret or parameter ARN, in characters, with room: 2,387 measured on
 * the synthesized template with 67-character table and key ARNs; account, region and stack names can make
 * each of its 14 ARNs about 40 characters longer (`test/lib/aws-limits.test.ts` holds the measurement).
 */
export const PROXY_POLICY_BASE_CHARS = 3_000;

/**
 * What the proxy role's policy grows by for its credential ARNs: a secret ARN appears four times (as itself
 * and with Secrets Manager's `-??????` suffix, in `GetSecretValue`'s resources and in the KMS context), a
 * parameter ARN twice (`GetParameter`'s resource and the KMS context), and each region they are in once
 * more in a `kms:ViaService` value.
 */
export function credentialPolicyChars(arns: {
  secretArns: readonly string[];
  parameterArns: readonly string[];
}): number {
  const quoted = (arn: string) => arn.length + 3;
  const regions = (list: readonly string[]) => new Set(list.map(regionOfArn));
  const via = (service: string, list: readonly string[]) =>
    [...regions(list)].reduce((sum, region) => sum + service.length + region.length + 22, 0);
  return (
    arns.secretArns.reduce((sum, arn) => sum + 4 * quoted(arn) + 14, 0) +
    arns.parameterArns.reduce((sum, arn) => sum + 2 * quoted(arn), 0) +
    via('secretsmanager', arns.secretArns) +
    via('ssm', arns.parameterArns)
  );
}

/**
 * Room kept for the API Gateway event around the body: headers and multiValueHeaders (both), the request
 * context and authorizer context, and JSON escaping of a text body (every `"` and `\` doubles, control
 * characters grow sixfold). 1 MiB covers 10 KB of headers twice over and a body whose escapes add 15%.
 */
export const EVENT_ENVELOPE_RESERVE_BYTES = 1024 * 1024;

/** The largest `maxBodyBytes` an invocation can carry. */
export const MAX_BODY_BYTES = AWS_LIMITS.lambdaSyncPayloadBytes - EVENT_ENVELOPE_RESERVE_BYTES;
