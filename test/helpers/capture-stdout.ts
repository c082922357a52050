/**
 * Records everything written to stdout (the JSON log lines; or to `stream`, e.g. stderr, where Powertools
 * writes warnings and errors) while still printing it, for secret scans and log checks.
 */
export function captureStdout(stream: NodeJS.WriteStream = process.stdout): {
  lines: string[];
  restore: () => void;
} {
  const lines: string[] = [];
  const original = stream.write.bind(stream);
  stream.write = ((chunk: string | Uint8Array, ...rest: never[]) => {
    lines.push(String(chunk));
    return original(chunk, ...rest);
  }) as typeof stream.write;
  return {
    lines,
    restore: () => {
      stream.write = original;
    },
  };
}
