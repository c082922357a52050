/**
 * Tollgate API key format: `<prefix><keyid>_<secret><checksum>`, e.g. `sk-tg-3kT9xQ2mZp7A_…`.
 * - keyid: 12 base62 characters, public, shown in listings and logs;
 * - secret: 32 base62 characters from a CSPRNG (about 190 bits);
 * - checksum: CRC32 of everything before it, as 6 base62 characters, so typos and garbage are refused
 *   without a database read and secret scanners can match the format by regex.
 * Only the SHA-256 of the whole key is ever stored.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { KEY_CARRIERS, type KeyCarrier } from './apis.ts';

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
export const KEY_ID_LENGTH = 12;
export const SECRET_LENGTH = 32;
export const CHECKSUM_LENGTH = 6;
/** Longest key the parser will look at; anything longer is refused before any regex work. */
const MAX_KEY_LENGTH = 128;
const PREFIX_PATTERN = /^[a-z][a-z0-9-]{0,15}$/;

/** Uniform random base62 string; rejection sampling keeps every character equally likely. */
export function randomBase62(length: number): string {
  let out = '';
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      // 248 = 62 * 4: bytes at or above it would bias the first characters.
      if (byte < 248) out += BASE62[byte % 62];
      if (out.length === length) break;
    }
  }
  return out;
}

function base62Fixed(value: number, width: number): string {
  let n = value;
  let out = '';
  for (let i = 0; i < width; i++) {
    out = BASE62[n % 62] + out;
    n = Math.floor(n / 62);
  }
  return out;
}

function checksum(body: string): string {
  return base62Fixed(crc32(body), CHECKSUM_LENGTH);
}

/** Throws unless the prefix is safe to put in front of keys (lowercase, short, regex-friendly). */
export function assertValidPrefix(prefix: string): void {
  if (!PREFIX_PATTERN.test(prefix)) {
    throw new Error(
      `key prefix '${prefix}' must be 1-16 characters of a-z, 0-9 and '-', starting with a letter`,
    );
  }
}

/** A freshly issued key: the plaintext is shown once and then only its hash survives. */
export interface IssuedKey {
  keyId: string;
  plaintext: string;
  hash: string;
}

/** Issues a new key, or a new secret for an existing key id (rotation). */
export function issueKey(prefix: string, keyId: string = randomBase62(KEY_ID_LENGTH)): IssuedKey {
  assertValidPrefix(prefix);
  const body = `${prefix}${keyId}_${randomBase62(SECRET_LENGTH)}`;
  const plaintext = body + checksum(body);
  return { keyId, plaintext, hash: hashKey(plaintext) };
}

/** A key that passed the format and checksum checks; it may still be unknown to the database. */
export interface ParsedKey {
  keyId: string;
  hash: string;
}

/**
 * Checks prefix, charset, length and checksum, with no I/O. Returns `undefined` for anything that is
 * not a well-formed key; callers answer 401 without touching the database.
 */
export function parseKey(candidate: string, prefix: string): ParsedKey | undefined {
  if (candidate.length > MAX_KEY_LENGTH || !candidate.startsWith(prefix)) return undefined;
  const rest = candidate.slice(prefix.length);
  if (rest.length !== KEY_ID_LENGTH + 1 + SECRET_LENGTH + CHECKSUM_LENGTH) return undefined;
  if (rest[KEY_ID_LENGTH] !== '_') return undefined;
  const keyId = rest.slice(0, KEY_ID_LENGTH);
  const tail = rest.slice(KEY_ID_LENGTH + 1);
  if (!/^[0-9A-Za-z]+$/.test(keyId) || !/^[0-9A-Za-z]+$/.test(tail)) return undefined;
  const body = candidate.slice(0, candidate.length - CHECKSUM_LENGTH);
  if (checksum(body) !== candidate.slice(-CHECKSUM_LENGTH)) return undefined;
  return { keyId, hash: hashKey(candidate) };
}

/** SHA-256 of the whole key, lowercase hex. */
export function hashKey(plaintext: string): string {
  return createHash('sha256').update(plaintext, 'utf8').digest('hex');
}

/** Constant-time comparison of two hex SHA-256 digests; false for anything not 32 bytes. */
export function hashesEqual(a: string, b: string): boolean {
  const left = Buffer.from(a, 'hex');
  const right = Buffer.from(b, 'hex');
  return left.length === 32 && right.length === 32 && timingSafeEqual(left, right);
}

/** The regex a secret scanner can use to find leaked keys of a prefix. */
export function keyPattern(prefix: string): RegExp {
  const escaped = prefix.replace(/[-]/g, '\\-');
  return new RegExp(
    `${escaped}[0-9A-Za-z]{${KEY_ID_LENGTH}}_[0-9A-Za-z]{${SECRET_LENGTH + CHECKSUM_LENGTH}}`,
    'g',
  );
}

/**
 * Finds the key a request carries, in the places each SDK family puts it (see `KEY_CARRIERS`):
 * `Authorization: Bearer` (OpenAI, and Anthropic/Gemini clients using tokens), `x-api-key` (Anthropic),
 * `x-goog-api-key` and `?key=` (Gemini). The first present carrier wins. Header names must be lower-case.
 */
export function keyFromRequest(
  headers: Readonly<Record<string, string | undefined>>,
  query: Readonly<Record<string, string | undefined>> = {},
): string | undefined {
  for (const carrier of Object.values<KeyCarrier>(KEY_CARRIERS)) {
    const value = carrier.in === 'header' ? headers[carrier.name] : query[carrier.name];
    if (value === undefined) continue;
    return carrier.bearer === true ? /^Bearer\s+(\S+)\s*$/i.exec(value)?.[1] : value;
  }
  return undefined;
}
