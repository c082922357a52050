/** Canonical JSON, record hashes and the genesis hash: the bytes that hashes and digest signatures cover. */
import { createHash } from 'node:crypto';
import type { AuditRecord } from './records.ts';

/** The `prevHash` of record 1 and the head hash of an empty log. */
export const GENESIS = '0'.repeat(64);

/** Stable JSON: object keys sorted at every depth. */
export function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** The hash a record must carry: SHA-256 over everything in it but the hash itself. */
export function recordHash(record: Omit<AuditRecord, 'hash'>): string {
  return createHash('sha256').update(canonical(record)).digest('hex');
}
