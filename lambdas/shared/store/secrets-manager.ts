/**
 * The provider store's secret source. On AWS, Secrets Manager and Parameter Store references are read with
 * the function's own IAM role, which the stack grants on exactly the configured secrets and parameters;
 * local references (a file, a variable) are refused there, since the proxy's host is not the operator's.
 * Locally it is the other way round: files and variables of the gateway's host are read, AWS services are
 * not there.
 */
import { readFile } from 'node:fs/promises';
import { AWS_JSON_SERVICES, type AwsJsonOptions, awsJsonClient, regionOfArn } from '../sdk-lean/aws-json.ts';
import { type ParameterStoreOptions, parameterReader } from './parameter-store.ts';
import type { SecretSource } from './providers.ts';

/** The AWS clients a deployed source reads with (tests point them at fakes). */
export interface SecretClients {
  secretsManager?: AwsJsonOptions;
  parameterStore?: ParameterStoreOptions;
}

const deployedOnly = (what: string) =>
  `${what} references work only on a deployed stack; locally give the value, a key file or an environment variable`;
const LOCAL_ONLY = 'key files and environment references are read only by a local gateway';
const refused = (reason: string) => async (): Promise<never> => {
  throw new Error(reason);
};

/** Reads a local reference; an empty or unset one is an error, not an empty credential. */
async function readLocal(kind: 'file' | 'env', reference: string): Promise<string> {
  const value = kind === 'file' ? await readFile(reference, 'utf8') : (process.env[reference] ?? '');
  if (value.trim() === '')
    throw new Error(kind === 'file' ? 'the key file is empty' : `environment variable ${reference} is unset`);
  return value;
}

/** The secret source for a keyring spec (`kms:...` reads AWS; `local:...` reads the host). */
export function secretSourceFor(keyring: string, clients: SecretClients = {}): SecretSource {
  if (keyring.startsWith('local:')) {
    const refuses = { secretsmanager: deployedOnly('Secrets Manager'), ssm: deployedOnly('Parameter Store') };
    return {
      getSecretValue: refused(refuses.secretsmanager),
      getParameter: refused(refuses.ssm),
      readLocal,
      refuses,
    };
  }
  const secretsManager = awsJsonClient(AWS_JSON_SERVICES.secretsManager, clients.secretsManager);
  const getParameter = parameterReader(clients.parameterStore);
  return {
    async getSecretValue(secretArn) {
      const out = await secretsManager({
        region: regionOfArn(secretArn),
        operation: 'GetSecretValue',
        input: { SecretId: secretArn },
      });
      if (typeof out.SecretString !== 'string') throw new Error('the secret has no string value');
      return out.SecretString;
    },
    getParameter,
    readLocal: refused(LOCAL_ONLY),
    refuses: { file: LOCAL_ONLY, env: LOCAL_ONLY },
  };
}
