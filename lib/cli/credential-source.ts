/**
 * Where a credential comes from on the command line (stdin, a named variable, a Secrets Manager ARN) and
 * its label and place in the failover order: the options `providers add` and `providers credentials add`
 * share.
 */
import { resolve } from 'node:path';
import type { CommandInput } from './command-spec.ts';
import { UsageError } from './output.ts';

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8').trim();
}

/** Where a credential comes from on the command line, and its place in the failover order. */
export const CREDENTIAL_OPTIONS = {
  keyStdin: { type: 'boolean', summary: 'read the credential from stdin', field: false },
  keyEnv: {
    type: 'string',
    value: 'VAR',
    summary: 'read the credential from environment variable VAR (now; with --live, at run time)',
    field: false,
  },
  live: {
    type: 'boolean',
    summary:
      "with --key-env: store the variable's name, read from the gateway's environment at run time (local)",
    field: false,
  },
  keyFile: {
    type: 'string',
    value: 'PATH',
    summary: 'a file holding the credential, read at run time (local gateway only)',
    field: false,
  },
  secretArn: {
    type: 'string',
    value: 'ARN',
    summary: 'a Secrets Manager reference (deployed stacks only)',
    field: 'credential.secretArn',
  },
  parameterArn: {
    type: 'string',
    value: 'ARN',
    summary: 'an SSM Parameter Store SecureString reference (deployed stacks only)',
    field: 'credential.parameterArn',
  },
  priority: { type: 'string', value: 'N', summary: 'lower is tried first', field: 'credential.priority' },
  label: {
    type: 'string',
    value: 'LABEL',
    summary: 'a name keys and teams can be bound to (unique within the provider)',
    field: 'credential.label',
  },
  expires: {
    type: 'string',
    value: 'DATE',
    summary: 'when the credential expires (ISO 8601)',
    field: 'credential.expires',
  },
} as const;

type CredentialFlags = CommandInput<typeof CREDENTIAL_OPTIONS, readonly []>['options'];

/**
 * Adds the credential's value from stdin or a named variable (never from an argument value, which would
 * land in shell history), or its reference: a key file or, with `--live`, a variable, read at run time.
 */
export async function withCredential(
  raw: Record<string, unknown>,
  options: CredentialFlags,
  local: boolean,
): Promise<Record<string, unknown>> {
  const given = {
    keyStdin: options.keyStdin === true,
    keyEnv: options.keyEnv !== undefined,
    keyFile: options.keyFile !== undefined,
    secretArn: options.secretArn !== undefined,
    parameterArn: options.parameterArn !== undefined,
  };
  if (Object.values(given).filter(Boolean).length !== 1)
    throw new UsageError(
      'give exactly one of --key-stdin, --key-env VAR, --key-file PATH, --secret-arn ARN or --parameter-arn ARN',
    );
  if (options.live === true && !given.keyEnv) throw new UsageError('--live goes with --key-env VAR');
  if (given.secretArn || given.parameterArn) {
    if (local)
      throw new UsageError(
        `${given.secretArn ? 'Secrets Manager' : 'Parameter Store'} references work only on a deployed stack; locally use --key-stdin, --key-env or --key-file`,
      );
    return raw;
  }
  const credential = (raw.credential ?? {}) as Record<string, unknown>;
  if (given.keyFile || options.live === true) {
    // The proxy of a deployed stack runs elsewhere: the operator's files and shell are not there.
    if (!local) throw new UsageError('--key-file and --key-env --live are read by a local gateway only');
    const reference = given.keyFile
      ? { keyFile: resolve(options.keyFile ?? '') }
      : { keyEnv: options.keyEnv ?? '' };
    return { ...raw, credential: { ...credential, ...reference } };
  }
  const value = options.keyStdin ? await readStdin() : (process.env[options.keyEnv ?? ''] ?? '');
  if (value === '')
    throw new UsageError(
      options.keyStdin
        ? 'no credential on stdin'
        : `environment variable ${options.keyEnv} is empty or unset`,
    );
  return { ...raw, credential: { ...credential, secret: value } };
}
