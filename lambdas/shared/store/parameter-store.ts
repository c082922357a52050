/**
 * Reads one SSM Parameter Store SecureString (`GetParameter` with decryption) over the service's JSON 1.1
 * protocol, signed with the SDK's own SigV4 signer. Not `@aws-sdk/client-ssm`: that client ships every SSM
 * error class and schema (about 70 KB of the proxy bundle) for the one call the proxy makes.
 */
import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import { fromEnv } from '@aws-sdk/credential-provider-env';
import { SignatureV4 } from '@smithy/signature-v4';

/** The credentials a request is signed with. */
export interface SigningCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/** Where and as whom Parameter Store is called; tests point it at a fake. */
export interface ParameterStoreOptions {
  /** Default: the public endpoint of the parameter's own region and partition. */
  endpoint?: string;
  /** Default: the Lambda execution role's, from the environment. */
  credentials?: () => Promise<SigningCredentials>;
  fetch?: typeof fetch;
}

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

/** A Parameter Store error, named by the service's error type (`ParameterNotFound`, `AccessDeniedException`). */
export class ParameterStoreError extends Error {
  constructor(type: string, message: string) {
    super(message === '' ? type : `${type}: ${message}`);
    this.name = type;
  }
}

/** The parameter's region and partition, from its ARN. */
function regionOf(parameterArn: string): { region: string; partition: string } {
  const [, partition = 'aws', , region = ''] = parameterArn.split(':');
  return { region, partition };
}

/** A reader of SecureString parameters by ARN. */
export function parameterReader(
  options: ParameterStoreOptions = {},
): (parameterArn: string) => Promise<string> {
  const credentials = options.credentials ?? fromEnv();
  const send = options.fetch ?? fetch;
  return async (parameterArn) => {
    const { region, partition } = regionOf(parameterArn);
    const endpoint = new URL(
      options.endpoint ?? `https://ssm.${region}.amazonaws.com${partition === 'aws-cn' ? '.cn' : ''}`,
    );
    const body = JSON.stringify({ Name: parameterArn, WithDecryption: true });
    const signer = new SignatureV4({ service: 'ssm', region, credentials, sha256: Sha256 });
    const signed = await signer.sign({
      method: 'POST',
      protocol: endpoint.protocol,
      hostname: endpoint.hostname,
      ...(endpoint.port === '' ? {} : { port: Number(endpoint.port) }),
      path: '/',
      query: {},
      headers: {
        host: endpoint.host,
        'content-type': 'application/x-amz-json-1.1',
        'x-amz-target': 'AmazonSSM.GetParameter',
      },
      body,
    });
    const response = await send(endpoint, {
      method: 'POST',
      headers: signed.headers,
      body,
      signal: AbortSignal.timeout(5000),
    });
    const answer = (await response.json().catch(() => ({}))) as {
      Parameter?: { Value?: string };
      __type?: string;
      message?: string;
      Message?: string;
    };
    if (!response.ok) {
      // JSON 1.1 error types may come qualified (`com.amazonaws.ssm#ParameterNotFound`).
      const type = (answer.__type ?? `HTTP ${response.status}`).split('#').at(-1) ?? 'UnknownError';
      throw new ParameterStoreError(type, answer.message ?? answer.Message ?? '');
    }
    const value = answer.Parameter?.Value;
    if (value === undefined) throw new ParameterStoreError('InvalidResponse', 'the parameter has no value');
    return value;
  };
}
