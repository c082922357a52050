/**
 * The refusals of management operations. Each knows its HTTP status and wire shape (`/admin`), and its
 * CLI exit code, so neither the route table nor the CLI decides per message.
 */

/** The body `/admin` answers an error with, and the CLI prints under `--json`. */
export interface OperationErrorBody {
  /** `field`: the body field (or query parameter) the refusal is about, when it is about one. */
  error: { code: string; message: string; field?: string };
}

/** A refusal of a management operation, in a sentence meant for the operator. */
export abstract class OperationError extends Error {
  abstract readonly status: number;
  abstract readonly code: string;
  /** The CLI's exit code: 2 when the operator must change the command, 1 otherwise. */
  abstract readonly exitCode: 1 | 2;

  /** The wire shape of this error. */
  toBody(): OperationErrorBody {
    return { error: { code: this.code, message: this.message } };
  }
}

/** A named record does not exist: 404. */
export class NotFoundError extends OperationError {
  readonly status = 404;
  readonly code = 'not_found';
  readonly exitCode = 1;
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'NotFoundError';
  }
}

/** The change collides with what exists (a duplicate, a concurrent change): 409. */
export class ConflictError extends OperationError {
  readonly status = 409;
  readonly code = 'conflict';
  readonly exitCode: 1 | 2 = 1;
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ConflictError';
  }
}

/** The record is still used by others (a team with keys): 409, and exit 2 — remove what uses it first. */
export class InUseError extends ConflictError {
  override readonly exitCode = 2;
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'InUseError';
  }
}

/** Input that cannot be used: 400. `field` names the input field, so the CLI can say the flag instead. */
export class InvalidError extends OperationError {
  readonly status = 400;
  readonly code = 'invalid_request';
  readonly exitCode = 2;
  readonly field: string | undefined;
  constructor(message: string, options?: ErrorOptions & { field?: string }) {
    super(message, options);
    this.name = 'InvalidError';
    this.field = options?.field;
  }

  override toBody(): OperationErrorBody {
    const body = super.toBody();
    if (this.field !== undefined) body.error.field = this.field;
    return body;
  }
}
