/**
 * Credentials held elsewhere and read at run time: an SSM Parameter Store SecureString (on AWS, the proxy
 * reads exactly the parameters the stack grants it), and locally a file or an environment variable of the
 * gateway's process (so an operator keeps using the secret files they already have). Each kind is a row
 * of {@link REFERENCE_KINDS}: how the input names it, how it is checked, and where it is read.
 */
import { InvalidError } from '../operations/errors.ts';

/** A Parameter Store parameter's ARN: IAM grants name exactly these. */
const PARAMETER_ARN_PATTERN = /^arn:aws[a-z-]*:ssm:[a-z0-9-]+:\d{12}:parameter\/[A-Za-z0-9/_.-]{1,1011}$/;
const ENV_VAR_PATTERN = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;

/** Where a referenced credential lives. */
export type ReferenceKind = 'ssm' | 'file' | 'env';

/** Reads referenced credentials; a source refuses the kinds its place cannot read. */
export interface ReferenceReader {
  /** A SecureString parameter's decrypted value. */
  getParameter(parameterArn: string): Promise<string>;
  /** A local file's content or a variable of the gateway's environment. */
  readLocal(kind: 'file' | 'env', reference: string): Promise<string>;
}

interface KindSpec {
  /** The `CredentialInput` field that names it. */
  field: 'parameterArn' | 'keyFile' | 'keyEnv';
  check: (reference: string) => string;
  read: (reader: ReferenceReader, reference: string) => Promise<string>;
}

/** Every reference kind, by the source name stored with the credential. */
export const REFERENCE_KINDS: Record<ReferenceKind, KindSpec> = {
  ssm: {
    field: 'parameterArn',
    check: (arn) => {
      if (!PARAMETER_ARN_PATTERN.test(arn))
        throw new InvalidError(`'${arn.slice(0, 200)}' is not an SSM parameter ARN`, {
          field: 'parameterArn',
        });
      return arn;
    },
    read: (reader, arn) => reader.getParameter(arn),
  },
  file: {
    field: 'keyFile',
    check: (path) => {
      // Relative paths would depend on where the gateway happens to start.
      if (!path.startsWith('/') || path.length > 4096 || path.includes('\0'))
        throw new InvalidError('a key file must be an absolute path', { field: 'keyFile' });
      return path;
    },
    read: (reader, path) => reader.readLocal('file', path),
  },
  env: {
    field: 'keyEnv',
    check: (name) => {
      if (!ENV_VAR_PATTERN.test(name))
        throw new InvalidError(`'${name.slice(0, 64)}' is not an environment variable name`, {
          field: 'keyEnv',
        });
      return name;
    },
    read: (reader, name) => reader.readLocal('env', name),
  },
};

/** The one reference an input names, checked, or undefined when it names none. */
export function referenceOf(
  input: Partial<Record<KindSpec['field'], string>>,
): { kind: ReferenceKind; reference: string } | undefined {
  for (const [kind, spec] of Object.entries(REFERENCE_KINDS) as Array<[ReferenceKind, KindSpec]>) {
    const given = input[spec.field];
    if (given !== undefined) return { kind, reference: spec.check(given) };
  }
  return undefined;
}

/** True for a stored source that is a reference. */
export function isReferenceKind(source: string): source is ReferenceKind {
  return Object.hasOwn(REFERENCE_KINDS, source);
}
