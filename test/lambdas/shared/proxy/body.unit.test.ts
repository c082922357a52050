/** The JSON body every proxied route starts from: a clear 400 or 413 for anything else. */
import { describe, expect, it } from 'vitest';
import { InvalidRequestError, RequestTooLargeError } from '#shared/errors.ts';
import { parseJsonObject } from '#shared/proxy/body.ts';

describe('parseJsonObject', () => {
  it('returns the object', () => {
    expect(parseJsonObject('{"model":"a/b"}', 100)).toEqual({ model: 'a/b' });
  });

  it.each([
    [undefined, 'empty'],
    ['', 'empty'],
    ['{nope', 'not valid JSON'],
    ['[1]', 'must be a JSON object'],
    ['null', 'must be a JSON object'],
  ])('refuses %j with a 400 that says why', (body, why) => {
    // Act
    const parse = () => parseJsonObject(body, 100);

    // Assess
    expect(parse).toThrow(InvalidRequestError);
    expect(parse).toThrow(why);
  });

  it('refuses a body over the limit in bytes with a 413', () => {
    // Prepare
    const body = JSON.stringify({ text: 'é'.repeat(30) });

    // Act
    const parse = () => parseJsonObject(body, body.length);

    // Assess
    expect(parse).toThrow(RequestTooLargeError);
  });
});
