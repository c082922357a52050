/**
 * ECDSA P-256 over a given SHA-256 digest — what KMS Sign does with `MessageType: DIGEST`, and what
 * `node:crypto` cannot (it always hashes its input). Plain affine BigInt arithmetic: slow, but only a fake
 * KMS signs with it.
 */
import { type KeyObject, randomBytes } from 'node:crypto';

const P = 2n ** 256n - 2n ** 224n + 2n ** 192n + 2n ** 96n - 1n;
const N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;
const G: Point = [
  0x6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296n,
  0x4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5n,
];
type Point = [bigint, bigint] | null;

const mod = (a: bigint, m: bigint): bigint => ((a % m) + m) % m;
function inverse(a: bigint, m: bigint): bigint {
  let [r0, r1, t0, t1] = [mod(a, m), m, 1n, 0n];
  while (r1 !== 0n) {
    const q = r0 / r1;
    [r0, r1, t0, t1] = [r1, r0 - q * r1, t1, t0 - q * t1];
  }
  return mod(t0, m);
}

function add(p: Point, q: Point): Point {
  if (p === null) return q;
  if (q === null) return p;
  if (p[0] === q[0] && mod(p[1] + q[1], P) === 0n) return null;
  const slope =
    p[0] === q[0]
      ? mod((3n * p[0] * p[0] - 3n) * inverse(2n * p[1], P), P)
      : mod((q[1] - p[1]) * inverse(q[0] - p[0], P), P);
  const x = mod(slope * slope - p[0] - q[0], P);
  return [x, mod(slope * (p[0] - x) - p[1], P)];
}

function multiply(k: bigint, point: Point): Point {
  let result: Point = null;
  let addend = point;
  for (let n = k; n > 0n; n >>= 1n) {
    if (n & 1n) result = add(result, addend);
    addend = add(addend, addend);
  }
  return result;
}

const toBig = (bytes: Buffer): bigint => BigInt(`0x${bytes.toString('hex') || '0'}`);
function derInteger(value: bigint): Buffer {
  let hex = value.toString(16);
  if (hex.length % 2 === 1) hex = `0${hex}`;
  let bytes = Buffer.from(hex, 'hex');
  if ((bytes[0] ?? 0) & 0x80) bytes = Buffer.concat([Buffer.from([0]), bytes]);
  return Buffer.concat([Buffer.from([0x02, bytes.length]), bytes]);
}

/** A DER ECDSA signature of a 32-byte digest, verifiable as ECDSA-SHA256 over the digested message. */
export function signDigest(digest: Buffer, privateKey: KeyObject): Buffer {
  const d = toBig(Buffer.from(String(privateKey.export({ format: 'jwk' }).d), 'base64url'));
  const z = toBig(digest);
  for (;;) {
    const k = mod(toBig(randomBytes(32)), N);
    const r = k === 0n ? 0n : mod(multiply(k, G)?.[0] ?? 0n, N);
    const s = r === 0n ? 0n : mod(inverse(k, N) * (z + r * d), N);
    if (s === 0n) continue;
    const body = Buffer.concat([derInteger(r), derInteger(s)]);
    return Buffer.concat([Buffer.from([0x30, body.length]), body]);
  }
}
