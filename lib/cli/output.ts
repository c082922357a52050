/** CLI output helpers: JSON for scripts, aligned text for people, one-line errors. */

/** A usage mistake: exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Parses a date option that must lie in the future, as an ISO string. */
export function parseFutureDate(value: string, flag: string): string {
  const at = new Date(value);
  if (Number.isNaN(at.getTime()))
    throw new UsageError(`${flag} '${value}' is not a date (use ISO 8601, e.g. 2027-01-31)`);
  if (at.getTime() <= Date.now()) throw new UsageError(`${flag} must be in the future`);
  return at.toISOString();
}

/** Splits a comma-separated option into trimmed, non-empty items. */
export function splitList(value: string | undefined): string[] {
  return value === undefined
    ? []
    : value
        .split(',')
        .map((item) => item.trim())
        .filter((item) => item !== '');
}

/** Prints a value as pretty JSON. */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** Prints rows as an aligned table with a header. */
export function printTable(headers: string[], rows: string[][]): void {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  process.stdout.write(`${[line(headers), ...rows.map(line)].join('\n')}\n`);
}
