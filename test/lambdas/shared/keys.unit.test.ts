import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { hashesEqual, hashKey, issueKey, keyFromRequest, keyPattern, parseKey } from '#shared/keys.ts';

describe('key format', () => {
  it('issues keys that parse back to their id and hash', () => {
    // Act
    const issued = issueKey('sk-tg-');
    const parsed = parseKey(issued.plaintext, 'sk-tg-');

    // Assess
    expect(issued.plaintext).toMatch(/^sk-tg-[0-9A-Za-z]{12}_[0-9A-Za-z]{38}$/);
    expect(parsed).toEqual({ keyId: issued.keyId, hash: issued.hash });
    expect(issued.hash).toBe(hashKey(issued.plaintext));
    expect(issued.plaintext.match(keyPattern('sk-tg-'))).toEqual([issued.plaintext]);
  });

  it('keeps the key id and changes the secret on rotation', () => {
    const first = issueKey('sk-tg-');
    const second = issueKey('sk-tg-', first.keyId);
    expect(second.keyId).toBe(first.keyId);
    expect(second.plaintext).not.toBe(first.plaintext);
  });

  it('honours a configured prefix and rejects an unsafe one', () => {
    const issued = issueKey('acme-');
    expect(parseKey(issued.plaintext, 'acme-')?.keyId).toBe(issued.keyId);
    expect(parseKey(issued.plaintext, 'sk-tg-')).toBeUndefined();
    expect(() => issueKey('Bad Prefix')).toThrow(/prefix/);
  });

  it('detects every single-character change through the checksum', () => {
    // Prepare
    const { plaintext } = issueKey('sk-tg-');
    const alphabet = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

    // Act + Assess: substitute each position after the prefix with another base62 character.
    for (let i = 'sk-tg-'.length; i < plaintext.length; i++) {
      if (plaintext[i] === '_') continue;
      const replacement = alphabet[(alphabet.indexOf(plaintext[i] ?? '0') + 17) % 62];
      const typo = plaintext.slice(0, i) + replacement + plaintext.slice(i + 1);
      expect(parseKey(typo, 'sk-tg-')).toBeUndefined();
    }
  });

  it('never accepts arbitrary strings (property)', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (candidate) => {
        expect(parseKey(candidate, 'sk-tg-')).toBeUndefined();
      }),
      { numRuns: 2000 },
    );
  });

  it('never accepts well-shaped strings with a random checksum (property)', () => {
    const base62 = fc.constantFrom(...'0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz');
    const shaped = fc
      .tuple(
        fc.array(base62, { minLength: 12, maxLength: 12 }),
        fc.array(base62, { minLength: 38, maxLength: 38 }),
      )
      .map(([id, rest]) => `sk-tg-${id.join('')}_${rest.join('')}`);
    fc.assert(
      fc.property(shaped, (candidate) => {
        // A random 6-character checksum matches CRC32 with probability < 1e-9 per run.
        expect(parseKey(candidate, 'sk-tg-')).toBeUndefined();
      }),
      { numRuns: 2000 },
    );
  });

  it('compares digests in constant time and only full-length ones', () => {
    const hash = hashKey('x');
    expect(hashesEqual(hash, hash)).toBe(true);
    expect(hashesEqual(hash, hashKey('y'))).toBe(false);
    expect(hashesEqual(hash.slice(0, 10), hash.slice(0, 10))).toBe(false);
  });

  it('reads the key from each carrier, Bearer first', () => {
    expect(keyFromRequest({ authorization: 'Bearer abc' })).toBe('abc');
    expect(keyFromRequest({ authorization: 'bearer   abc ' })).toBe('abc');
    expect(keyFromRequest({ authorization: 'Basic abc' })).toBeUndefined();
    expect(keyFromRequest({ 'x-api-key': 'ant' })).toBe('ant');
    expect(keyFromRequest({ 'x-goog-api-key': 'goog' })).toBe('goog');
    expect(keyFromRequest({}, { key: 'q' })).toBe('q');
    expect(keyFromRequest({ authorization: 'Bearer b', 'x-api-key': 'a' }, { key: 'q' })).toBe('b');
    expect(keyFromRequest({})).toBeUndefined();
  });
});
