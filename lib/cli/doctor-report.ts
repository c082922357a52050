/** What `tollgate doctor` reports: one result per check, as aligned lines for people or one JSON document. */
import { colourOn } from '../terminal.ts';

/** The outcome of one check. */
export interface CheckResult {
  /** Stable name, for scripts. */
  id: string;
  status: 'pass' | 'fail' | 'skip';
  /** What was measured, in words and numbers. */
  figure: string;
  /** What to do, when it fails. */
  fix?: string | undefined;
}

/** A whole run. */
export interface DoctorReport {
  target: string;
  ok: boolean;
  checks: CheckResult[];
}

/** A passing check. */
export const pass = (id: string, figure: string): CheckResult => ({ id, status: 'pass', figure });
/** A failing check with its fix. */
export const fail = (id: string, figure: string, fix: string): CheckResult => ({
  id,
  status: 'fail',
  figure,
  fix,
});
/** A check that does not apply to this target. */
export const skip = (id: string, figure: string): CheckResult => ({ id, status: 'skip', figure });

/** The report as one document. */
export function reportOf(target: string, checks: CheckResult[]): DoctorReport {
  return { target, ok: checks.every((c) => c.status !== 'fail'), checks };
}

/** The report as lines: `PASS  id  figure`, and the fix under every failure. */
export function renderReport(report: DoctorReport, stream: NodeJS.WriteStream = process.stdout): string {
  const colour = colourOn(stream);
  const paint = (code: number, text: string): string => (colour ? `\u001b[${code}m${text}\u001b[39m` : text);
  const width = Math.max(...report.checks.map((c) => c.id.length));
  const lines = [`tollgate doctor: ${report.target}`];
  for (const check of report.checks) {
    const label = { pass: paint(32, 'PASS'), fail: paint(31, 'FAIL'), skip: paint(33, 'SKIP') }[check.status];
    lines.push(`${label}  ${check.id.padEnd(width)}  ${check.figure}`);
    if (check.fix !== undefined) lines.push(`      ${' '.repeat(width)}  fix: ${check.fix}`);
  }
  const failed = report.checks.filter((c) => c.status === 'fail').length;
  lines.push(failed === 0 ? 'All checks passed.' : `${failed} check(s) failed.`);
  return `${lines.join('\n')}\n`;
}
