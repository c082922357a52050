/**
 * Project attribution: a request may name its project in the body (`project_id`, as clients of the Worker
 * gateway send it) or in `x-tollgate-project`. The gateway takes the field out before the upstream sees the
 * body (no provider API knows it) and records the project in the request log.
 */
import { InvalidRequestError } from '../errors.ts';
import { PROJECT_PATTERN, PROJECT_RULE } from '../operations/usage.ts';

/** The header a client may name its project in. */
export const PROJECT_HEADER = 'x-tollgate-project';
/** The body field a client may name its project in. */
export const PROJECT_FIELD = 'project_id';

/**
 * The body without `project_id`, and the project named by it or the header.
 * @throws {InvalidRequestError} a malformed name, or two different names in body and header
 */
export function takeProject(
  body: Record<string, unknown>,
  headers: Readonly<Record<string, string>>,
): { body: Record<string, unknown>; project: string | undefined } {
  const { [PROJECT_FIELD]: field, ...rest } = body;
  const header = headers[PROJECT_HEADER];
  if (field !== undefined && (typeof field !== 'string' || !PROJECT_PATTERN.test(field)))
    throw new InvalidRequestError(`'${PROJECT_FIELD}' ${PROJECT_RULE}.`);
  if (header !== undefined && !PROJECT_PATTERN.test(header))
    throw new InvalidRequestError(`'${PROJECT_HEADER}' ${PROJECT_RULE}.`);
  if (field !== undefined && header !== undefined && field !== header)
    throw new InvalidRequestError(
      `'${PROJECT_FIELD}' and '${PROJECT_HEADER}' name different projects; send one.`,
    );
  return { body: field === undefined ? body : rest, project: (field as string | undefined) ?? header };
}
