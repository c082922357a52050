/**
 * Calls of AWS's JSON protocols (DynamoDB's 1.0; KMS, Secrets Manager and Parameter Store's 1.1), signed
 * as the SDK's SigV4 signer signs them (`sigv4.ts`), aimed at the SDK's own partition table, sent over kept-alive
 * connections (`transport.ts`) and retried as the SDK's standard retry mode retries. Not the services'
 * SDK clients: each ships every operation's schema and error class (DynamoDB with the smithy core about
 * 180 KiB, KMS 27 KiB, Secrets Manager 13 KiB, SSM about 70 KB of the proxy bundle) for the few calls the
 * gateway makes, and spends about twice the CPU per call (`bench/dynamo-floor.ts`).
 */
import { partition } from '@aws-sdk/core/client';
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { isThrottlingError, isTransientError } from '@smithy/core/retry';
import { type SigningCredentials, signedHeaders } from './sigv4.ts';
import { nodeTransport, type Transport, type WireAnswer } from './transport.ts';

export type { SigningCredentials } from './sigv4.ts';

/**
 * A JSON service: its signing name (also its endpoint prefix), its `X-Amz-Target` prefix, the suffix of
 * its `AWS_ENDPOINT_URL_*` variable (the SDK's service id, upper case, spaces as underscores), its
 * protocol version, and how long one attempt may wait for the whole answer.
 */
export interface AwsJsonService {
  readonly name: string;
  readonly target: string;
  readonly envId: string;
  readonly version: '1.0' | '1.1';
  readonly timeoutMs: number;
  /** The pinned SDK's defaults for the service's client: attempts (the first included) and backoff base. */
  readonly attempts: number;
  readonly baseDelayMs: number;
}

/** KMS, Secrets Manager and Parameter Store alike: JSON 1.1, 5 s, the SDK's default 3 attempts from 50 ms. */
const JSON_11 = { version: '1.1', timeoutMs: 5000, attempts: 3, baseDelayMs: 50 } as const;

/** The services the gateway calls this way. */
export const AWS_JSON_SERVICES = {
  // A DynamoDB call that has not answered in 10 s will not; the SDK would wait for ever. Its client
  // makes 4 attempts from a 25 ms base (client-dynamodb's runtime config, smithy's 2026 retry defaults).
  dynamodb: {
    name: 'dynamodb',
    target: 'DynamoDB_20120810',
    envId: 'DYNAMODB',
    version: '1.0',
    timeoutMs: 10_000,
    attempts: 4,
    baseDelayMs: 25,
  },
  kms: { name: 'kms', target: 'TrentService', envId: 'KMS', ...JSON_11 },
  secretsManager: { name: 'secretsmanager', target: 'secretsmanager', envId: 'SECRETS_MANAGER', ...JSON_11 },
  ssm: { name: 'ssm', target: 'AmazonSSM', envId: 'SSM', ...JSON_11 },
} as const satisfies Record<string, AwsJsonService>;

/** Where and as whom a service is called; tests point it at a fake. */
export interface AwsJsonOptions {
  /**
   * Default: as the SDK's, `AWS_ENDPOINT_URL_<service>`, then `AWS_ENDPOINT_URL`, then the service's public
   * endpoint in the call's region by the SDK's partition table.
   */
  endpoint?: string;
  /** Default: the SDK's default chain (in the Lambda bundles, the execution role's, from the environment). */
  credentials?: () => Promise<SigningCredentials>;
  /** Default: {@link nodeTransport}. */
  transport?: Transport;
  /** Attempts of one call, the first included. Default: `AWS_MAX_ATTEMPTS`, else the service's. */
  maxAttempts?: number;
}

/** One operation of a service, in a region. */
export interface AwsJsonCall {
  region: string;
  operation: string;
  input: Record<string, unknown>;
}

/** A JSON service's answer. */
export type AwsJsonAnswer = Record<string, unknown>;

/**
 * An error answered by an AWS service (or the lack of an answer), named by the service's error type, with
 * the answer's other fields on it as the SDK's errors have them (DynamoDB's `CancellationReasons`, the
 * `Item` of a refused condition), in the service's own encoding.
 */
export class AwsServiceError extends Error {
  /** The HTTP status of the answer; 0 when none came. */
  readonly status: number;
  [field: string]: unknown;

  constructor(type: string, message: string, options: { status: number; cause?: unknown }) {
    super(message === '' ? type : `${type}: ${message}`, { cause: options.cause });
    this.name = type;
    this.status = options.status;
  }

  /** Whether the SDK's own classification calls it throttling (its error types, or a 429). */
  get throttled(): boolean {
    const { name, message, status: httpStatusCode } = this;
    return isThrottlingError({ name, message, $metadata: { httpStatusCode } });
  }

  /**
   * Whether the SDK's standard mode would try again, by its own classification: throttling, a 500, 502,
   * 503 or 504, or no answer for a network reason it knows (a reset, a refusal, a timeout).
   */
  get retryable(): boolean {
    const { name, message, status: httpStatusCode, cause } = this;
    // No answer: the SDK's classification reads the network error's code from the cause.
    const seen = {
      name,
      message,
      $metadata: { httpStatusCode },
      ...(cause instanceof Error ? { cause } : {}),
    };
    return this.throttled || isTransientError(seen);
  }

  /** Whether the service cannot serve now (after the retries: a 503), rather than refusing the call. */
  get unavailable(): boolean {
    return this.retryable || this.status === 0 || this.status >= 500;
  }
}

/** The SDK's standard mode: full-jitter backoff from the service's base (1 s when throttled), capped at 20 s. */
const backoff = (retry: number, base: number, err: AwsServiceError): number =>
  Math.random() * Math.min(20_000, (err.throttled ? 1000 : base) * 2 ** retry);

const envAttempts = (): number | undefined => {
  const value = Number(process.env.AWS_MAX_ATTEMPTS);
  return Number.isInteger(value) && value >= 1 ? value : undefined;
};

/** The region of an ARN (`arn:partition:service:region:account:resource`). */
export function regionOfArn(arn: string): string {
  return arn.split(':')[3] ?? '';
}

/** Reads an answer's error: error types may come qualified (`com.amazonaws.ssm#ParameterNotFound`). */
function errorOf(status: number, answer: AwsJsonAnswer, header: string | undefined): AwsServiceError {
  const { __type, message: lower, Message: upper, ...fields } = answer;
  const raw = typeof __type === 'string' ? __type : (header ?? `HTTP ${status}`);
  const type = raw.split(':')[0]?.split('#').at(-1) ?? 'UnknownError';
  const message = lower ?? upper;
  const error = new AwsServiceError(type, typeof message === 'string' ? message : '', { status });
  for (const [field, value] of Object.entries(fields)) if (!(field in error)) error[field] = value;
  return error;
}

const parsed = (body: string): AwsJsonAnswer | undefined => {
  try {
    const value: unknown = JSON.parse(body);
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as AwsJsonAnswer)
      : undefined;
  } catch {
    return undefined;
  }
};

/** A caller of one JSON service; each call answers the operation's output or throws {@link AwsServiceError}. */
export function awsJsonClient(
  service: AwsJsonService,
  options: AwsJsonOptions = {},
): (call: AwsJsonCall) => Promise<AwsJsonAnswer> {
  const credentials = options.credentials ?? defaultProvider();
  const send = options.transport ?? nodeTransport;
  const maxAttempts = options.maxAttempts ?? envAttempts() ?? service.attempts;
  const configured =
    options.endpoint ?? process.env[`AWS_ENDPOINT_URL_${service.envId}`] ?? process.env.AWS_ENDPOINT_URL;
  const endpoints = new Map<string, URL>();
  const endpointFor = (region: string): URL => {
    let endpoint = endpoints.get(region);
    if (endpoint === undefined) {
      endpoint = new URL(configured ?? `https://${service.name}.${region}.${partition(region).dnsSuffix}`);
      endpoints.set(region, endpoint);
    }
    return endpoint;
  };

  const attempt = async (call: AwsJsonCall): Promise<AwsJsonAnswer> => {
    const endpoint = endpointFor(call.region);
    const body = JSON.stringify(call.input);
    const headers = signedHeaders({
      credentials: await credentials(),
      region: call.region,
      service: service.name,
      host: endpoint.host,
      headers: {
        'content-type': `application/x-amz-json-${service.version}`,
        'x-amz-target': `${service.target}.${call.operation}`,
      },
      body,
    });
    let response: WireAnswer;
    try {
      response = await send({ url: endpoint, headers, body, timeoutMs: service.timeoutMs });
    } catch (cause) {
      throw new AwsServiceError('NetworkingError', `${service.name} did not answer`, { status: 0, cause });
    }
    const ok = response.status >= 200 && response.status < 300;
    const answer = parsed(response.body);
    if (!ok) throw errorOf(response.status, answer ?? {}, response.headers['x-amzn-errortype']);
    // A success that is no JSON object (a proxy's page, a cut body) is no answer: read as one, a missing
    // `Item` would say "not found". Retried as a bad gateway.
    if (answer === undefined)
      throw new AwsServiceError('InvalidAnswer', `${service.name} answered no JSON object`, { status: 502 });
    return answer;
  };

  return async (call) => {
    for (let n = 1; ; n++) {
      try {
        return await attempt(call);
      } catch (err) {
        if (!(err instanceof AwsServiceError) || !err.retryable || n >= maxAttempts) throw err;
        await new Promise((resolve) => setTimeout(resolve, backoff(n - 1, service.baseDelayMs, err)));
      }
    }
  };
}
