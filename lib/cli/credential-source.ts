/**
 * Where a credential comes from on the command line (stdin, a named variable, a Secrets Manager ARN) and
 * its label and place in the failover order: the options `providers add` and `providers credentials add`
 * share.
 */
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
    summary: 'read the credential from environment variable VAR',
    field: false,
  },
  secretArn: {
    type: 'string',
    value: 'ARN',
    summary: 'a Secrets Manager reference (deployed stacks only)',
    field: 'credential.secretArn',
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
 * Adds the credential's value from stdin or a named variable; never from an argument value, which would
 * land in shell history.
 */
export async function withCredential(
  raw: Record<string, unknown>,
  options: CredentialFlags,
  local: boolean,
): Promise<Record<string, unknown>> {
  const sources = [options.keyStdin, options.keyEnv !== undefined, options.secretArn !== undefined].filter(
    Boolean,
  ).length;
  if (sources !== 1)
    throw new UsageError('give exactly one of --key-stdin, --key-env VAR or --secret-arn ARN');
  if (options.secretArn !== undefined) {
    if (local)
      throw new UsageError(
        'Secrets Manager references work only on a deployed stack; locally use --key-stdin or --key-env',
      );
    return raw;
  }
  const value = options.keyStdin ? await readStdin() : (process.env[options.keyEnv ?? ''] ?? '');
  if (value === '')
    throw new UsageError(
      options.keyStdin
        ? 'no credential on stdin'
        : `environment variable ${options.keyEnv} is empty or unset`,
    );
  const credential = (raw.credential ?? {}) as Record<string, unknown>;
  return { ...raw, credential: { ...credential, secret: value } };
}
