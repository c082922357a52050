/** Runs the `tollgate` CLI in-process, capturing what it prints and its exit code. */
import { vi } from 'vitest';

export async function runCli(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const { main } = await import('../../lib/cli/main.ts');
  let stdout = '';
  let stderr = '';
  // Log and metric lines of handlers running in this same process (a test's gateway) are not the CLI's output.
  const metrics = process.stdout.write.bind(process.stdout);
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    if (String(chunk).startsWith('{"_aws"')) return metrics(chunk);
    stdout += String(chunk);
    return true;
  });
  const logs = process.stderr.write.bind(process.stderr);
  const err = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
    if (String(chunk).startsWith('{"level"')) return logs(chunk);
    stderr += String(chunk);
    return true;
  });
  try {
    return { code: await main(argv), stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}
