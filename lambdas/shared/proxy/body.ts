/** Request body parsing shared by every proxied route. */
import { InvalidRequestError, RequestTooLargeError } from '../errors.ts';

/** Parses a JSON object body within the size limit. */
export function parseJsonObject(body: string | undefined, maxBytes: number): Record<string, unknown> {
  if (body === undefined || body === '')
    throw new InvalidRequestError('The request body is empty; send a JSON object.');
  if (Buffer.byteLength(body, 'utf8') > maxBytes) throw new RequestTooLargeError(maxBytes);
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    throw new InvalidRequestError('The request body is not valid JSON.');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new InvalidRequestError('The request body must be a JSON object.');
  }
  return parsed as Record<string, unknown>;
}
