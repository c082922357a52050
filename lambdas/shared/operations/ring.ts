/**
 * The hash ring an operator imports: entries separated by newlines or commas, each a raw SHA-256 hex
 * (labelled by its position) or `label:sha256hex`; `#` starts a comment line. Parsing is all or nothing:
 * every malformed entry is reported with its line and column, and then nothing is written.
 */
import { InvalidError } from './errors.ts';

/** One key hash to import. */
export interface RingEntry {
  label: string;
  /** Lowercase hex SHA-256. */
  hash: string;
  line: number;
  column: number;
}

/** One malformed entry, where it starts. */
export interface RingProblem {
  line: number;
  column: number;
  message: string;
}

/** A ring with malformed entries; `problems` lists them all, in order. */
export class RingFormatError extends InvalidError {
  readonly problems: readonly RingProblem[];
  constructor(problems: readonly RingProblem[]) {
    super(problems.map((p) => `line ${p.line}, column ${p.column}: ${p.message}`).join('; '), {
      field: 'ring',
    });
    this.name = 'RingFormatError';
    this.problems = problems;
  }
}

const HEX = /^[0-9a-fA-F]{64}$/;

/** Shows at most the start of an entry: enough to find it, never a whole secret pasted by mistake. */
const excerpt = (text: string): string => (text.length > 20 ? `${text.slice(0, 16)}…` : text);

/** Parses a ring. @throws {RingFormatError} listing every malformed or repeated entry. */
export function parseRing(text: string): RingEntry[] {
  const entries: RingEntry[] = [];
  const problems: RingProblem[] = [];
  const seen = new Map<string, RingEntry>();
  text.split(/\r?\n/).forEach((lineText, index) => {
    const line = index + 1;
    if (lineText.trimStart().startsWith('#')) return;
    let offset = 0;
    for (const piece of lineText.split(',')) {
      const column = offset + (piece.length - piece.trimStart().length) + 1;
      offset += piece.length + 1;
      const entry = piece.trim();
      if (entry === '') continue;
      const colon = entry.lastIndexOf(':');
      const label = colon < 0 ? `key-${entries.length + problems.length + 1}` : entry.slice(0, colon).trim();
      const hash = (colon < 0 ? entry : entry.slice(colon + 1)).trim();
      if (!HEX.test(hash)) {
        problems.push({
          line,
          column,
          message: `'${excerpt(entry)}' is not a SHA-256 hex or label:sha256hex`,
        });
        continue;
      }
      if (label === '') {
        problems.push({ line, column, message: 'the label before the colon is empty' });
        continue;
      }
      const parsed = { label, hash: hash.toLowerCase(), line, column };
      const first = seen.get(parsed.hash);
      if (first !== undefined) {
        problems.push({
          line,
          column,
          message: `the same hash as line ${first.line}, column ${first.column}`,
        });
        continue;
      }
      seen.set(parsed.hash, parsed);
      entries.push(parsed);
    }
  });
  if (problems.length > 0) throw new RingFormatError(problems);
  return entries;
}
