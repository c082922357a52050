/** Runs the `tollgate` CLI in-process, capturing what it prints and its exit code. */
import { vi } from 'vitest';

export async function runCli(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const { main } = await import('../../lib/cli/main.ts');
  let stdout = '';
  let stderr = '';
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    stdout += String(chunk);
    return true;
  });
  const err = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
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
