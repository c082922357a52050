/** Request body parsing shared by every proxied route. */
import { InvalidRequestError, RequestTooLargeError } from '../errors.ts';

/**
 * Deepest nesting of objects and arrays a body may have. Real requests (tool schemas, structured output)
 * stay far below it; a body nested thousands deep would only exhaust the stack of whatever serialises it.
 */
export const MAX_JSON_DEPTH = 128;

/** The deepest nesting of a JSON text, counted without recursion (strings skipped, escapes honoured). */
export function jsonDepth(text: string): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      depth++;
      if (depth > deepest) deepest = depth;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return deepest;
}

/** A path parameter %-decoded; malformed encoding is the client's mistake, answered with a 400. */
export function decodedPathParameter(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    throw new InvalidRequestError('The path is not valid percent-encoding.');
  }
}

/** Parses a JSON object body within the size and depth limits. */
export function parseJsonObject(body: string | undefined, maxBytes: number): Record<string, unknown> {
  if (body === undefined || body === '')
    throw new InvalidRequestError('The request body is empty; send a JSON object.');
  if (Buffer.byteLength(body, 'utf8') > maxBytes) throw new RequestTooLargeError(maxBytes);
  if (jsonDepth(body) > MAX_JSON_DEPTH)
    throw new InvalidRequestError(`The request body is nested deeper than ${MAX_JSON_DEPTH} levels.`);
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
