/**
 * Calls of AWS's JSON 1.1 protocol (KMS, Secrets Manager, Parameter Store), signed with the SDK's own SigV4
 * signer, aimed at the SDK's own partition table and retried as the SDK's standard retry mode retries. Not
 * the services' SDK clients: each ships every operation's schema and error class (KMS 27 KiB, Secrets
 * Manager 13 KiB, SSM about 70 KB of the proxy bundle) for the one or two calls the gateway makes.
 */
import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import { partition } from '@aws-sdk/core/client';
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { isThrottlingError } from '@smithy/core/retry';
import { SignatureV4 } from '@smithy/signature-v4';

/** The credentials a request is signed with. */
export interface SigningCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/**
 * A JSON 1.1 service: its signing name (also its endpoint prefix), its `X-Amz-Target` prefix, and the
 * suffix of its `AWS_ENDPOINT_URL_*` variable (the SDK's service id, upper case, spaces as underscores).
 */
export interface AwsJsonService {
  readonly name: string;
  readonly target: string;
  readonly envId: string;
}

/** The services the gateway calls this way. */
export const AWS_JSON_SERVICES = {
  kms: { name: 'kms', target: 'TrentService', envId: 'KMS' },
  secretsManager: { name: 'secretsmanager', target: 'secretsmanager', envId: 'SECRETS_MANAGER' },
  ssm: { name: 'ssm', target: 'AmazonSSM', envId: 'SSM' },
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
  fetch?: typeof fetch;
}

/** One operation of a service, in a region. */
export interface AwsJsonCall {
  region: string;
  operation: string;
  input: Record<string, unknown>;
}

/** A JSON 1.1 service's answer. */
export type AwsJsonAnswer = Record<string, unknown>;

type Data = string | ArrayBuffer | ArrayBufferView;

const bytes = (data: Data): Buffer =>
  typeof data === 'string'
    ? Buffer.from(data, 'utf8')
    : ArrayBuffer.isView(data)
      ? Buffer.from(data.buffer, data.byteOffset, data.byteLength)
      : Buffer.from(data);

/** SHA-256 and HMAC-SHA-256 from node:crypto, in the shape the signer takes. */
export class Sha256 {
  private readonly secret: Data | undefined;
  private hash: Hash | Hmac;

  constructor(secret?: Data) {
    this.secret = secret;
    this.hash = this.fresh();
  }

  private fresh(): Hash | Hmac {
    return this.secret === undefined ? createHash('sha256') : createHmac('sha256', bytes(this.secret));
  }

  update(data: Data): void {
    this.hash.update(bytes(data));
  }

  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }

  reset(): void {
    this.hash = this.fresh();
  }
}

/** An error answered by an AWS service (or the lack of an answer), named by the service's error type. */
export class AwsServiceError extends Error {
  /** The HTTP status of the answer; 0 when none came. */
  readonly status: number;

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

  /** Whether the SDK's standard mode would try again: throttling, a 5xx, or no answer at all. */
  get retryable(): boolean {
    return this.throttled || this.status === 0 || this.status >= 500;
  }
}

/** The SDK's standard mode: three attempts, full-jitter backoff from 100 ms (500 ms when throttled). */
const MAX_ATTEMPTS = 3;
const backoff = (attempt: number, err: AwsServiceError): number =>
  Math.random() * Math.min(20_000, (err.throttled ? 500 : 100) * 2 ** attempt);

/** The region of an ARN (`arn:partition:service:region:account:resource`). */
export function regionOfArn(arn: string): string {
  return arn.split(':')[3] ?? '';
}

/** Reads an answer's error: JSON 1.1 error types may come qualified (`com.amazonaws.ssm#ParameterNotFound`). */
function errorOf(status: number, answer: AwsJsonAnswer, header: string | null): AwsServiceError {
  const raw = typeof answer.__type === 'string' ? answer.__type : (header ?? `HTTP ${status}`);
  const type = raw.split(':')[0]?.split('#').at(-1) ?? 'UnknownError';
  const message = answer.message ?? answer.Message;
  return new AwsServiceError(type, typeof message === 'string' ? message : '', { status });
}

/** A caller of one JSON 1.1 service; each call answers the operation's output or throws {@link AwsServiceError}. */
export function awsJsonClient(
  service: AwsJsonService,
  options: AwsJsonOptions = {},
): (call: AwsJsonCall) => Promise<AwsJsonAnswer> {
  const credentials = options.credentials ?? defaultProvider();
  const send = options.fetch ?? fetch;
  const configured =
    options.endpoint ?? process.env[`AWS_ENDPOINT_URL_${service.envId}`] ?? process.env.AWS_ENDPOINT_URL;
  const signers = new Map<string, SignatureV4>();
  const signerFor = (region: string): SignatureV4 => {
    let signer = signers.get(region);
    if (signer === undefined) {
      signer = new SignatureV4({ service: service.name, region, credentials, sha256: Sha256 });
      signers.set(region, signer);
    }
    return signer;
  };

  const attempt = async (call: AwsJsonCall): Promise<AwsJsonAnswer> => {
    const endpoint = new URL(
      configured ?? `https://${service.name}.${call.region}.${partition(call.region).dnsSuffix}`,
    );
    const body = JSON.stringify(call.input);
    const signed = await signerFor(call.region).sign({
      method: 'POST',
      protocol: endpoint.protocol,
      hostname: endpoint.hostname,
      ...(endpoint.port === '' ? {} : { port: Number(endpoint.port) }),
      path: '/',
      query: {},
      headers: {
        host: endpoint.host,
        'content-type': 'application/x-amz-json-1.1',
        'x-amz-target': `${service.target}.${call.operation}`,
      },
      body,
    });
    let response: Response;
    try {
      response = await send(endpoint, {
        method: 'POST',
        headers: signed.headers,
        body,
        signal: AbortSignal.timeout(5000),
      });
    } catch (cause) {
      throw new AwsServiceError('NetworkingError', `${service.name} did not answer`, { status: 0, cause });
    }
    const answer = (await response.json().catch(() => ({}))) as AwsJsonAnswer;
    if (!response.ok) throw errorOf(response.status, answer, response.headers.get('x-amzn-errortype'));
    return answer;
  };

  return async (call) => {
    for (let n = 1; ; n++) {
      try {
        return await attempt(call);
      } catch (err) {
        if (!(err instanceof AwsServiceError) || !err.retryable || n >= MAX_ATTEMPTS) throw err;
        await new Promise((resolve) => setTimeout(resolve, backoff(n, err)));
      }
    }
  };
}
