/**
 * The chain's shapes, apart from the chain itself so that hashing and verification can name them without
 * importing the log that uses them.
 */
import type { AuditEntry } from './entries.ts';

/** A chained audit record. */
export interface AuditRecord extends AuditEntry {
  seq: number;
  prevHash: string;
  hash: string;
}

/** The chain head: the newest record, and the newest digest as the last sealing noted it. */
export interface ChainHead {
  seq: number;
  hash: string;
  /** Number of the newest digest (0: none yet). */
  digest: number;
  /** The newest record that digest covers. */
  sealed: number;
  /** When that digest was signed (ms since the epoch; 0: never). */
  sealedAt: number;
}
