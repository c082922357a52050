/** The ring parser: every separator and form, and every malformed entry with its line and column. */
import { describe, expect, it } from 'vitest';
import { parseRing, RingFormatError } from '#shared/operations/ring.ts';

const H1 = 'a'.repeat(64);
const H2 = 'B'.repeat(64);

describe('parseRing', () => {
  it('reads comma- and newline-separated entries, raw and labelled, skipping comments', () => {
    // Act
    const entries = parseRing(`# legacy\nci:${H1}, ${H2}\r\n\n`);

    // Assess
    expect(entries).toEqual([
      { label: 'ci', hash: H1, line: 2, column: 1 },
      { label: 'key-2', hash: H2.toLowerCase(), line: 2, column: `ci:${H1}, `.length + 1 },
    ]);
  });

  it('no longer reads c1:H1,c2:H2 as one key', () => {
    expect(parseRing(`c1:${H1},c2:${H2}`).map((e) => e.label)).toEqual(['c1', 'c2']);
  });

  it('reports every malformed or repeated entry with its position', () => {
    // Act
    let caught: unknown;
    try {
      parseRing(`ok:${H1}\n  short:abc, :${H2}\n${H1.toUpperCase()}`);
    } catch (err) {
      caught = err;
    }

    // Assess
    expect(caught).toBeInstanceOf(RingFormatError);
    expect((caught as RingFormatError).problems).toEqual([
      { line: 2, column: 3, message: "'short:abc' is not a SHA-256 hex or label:sha256hex" },
      { line: 2, column: 14, message: 'the label before the colon is empty' },
      { line: 3, column: 1, message: 'the same hash as line 1, column 1' },
    ]);
  });
});
