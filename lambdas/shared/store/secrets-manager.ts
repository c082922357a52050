/**
 * The provider store's secret source: Secrets Manager references are read with the function's own IAM
 * role. Locally there is no Secrets Manager: the local keyring refuses them with a clear message.
 */
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { SecretSource } from './providers.ts';

/** The secret source for a keyring spec (`kms:...` reads Secrets Manager; `local:...` refuses). */
export function secretSourceFor(
  keyring: string,
  client: SecretsManagerClient = new SecretsManagerClient({}),
): SecretSource {
  if (keyring.startsWith('local:')) {
    return {
      getSecretValue: async () => {
        throw new Error(
          'Secrets Manager references work only on a deployed stack; locally use --key-stdin or --key-env',
        );
      },
    };
  }
  return {
    async getSecretValue(secretArn) {
      const out = await client.send(new GetSecretValueCommand({ SecretId: secretArn }));
      if (out.SecretString === undefined) throw new Error('the secret has no string value');
      return out.SecretString;
    },
  };
}
