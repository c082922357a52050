/**
 * The redaction test over every log line of the suite: in every test file, each structured log line
 * (Powertools JSON and EMF) is captured — and kept off the console — and after the file none may hold a
 * Tollgate key or anything shaped like an upstream credential.
 */
import { afterAll, expect } from 'vitest';

const SECRET_SHAPES = [
  /sk-tg-[0-9A-Za-z]{12}_[0-9A-Za-z]{38}/,
  /\bsk-[A-Za-z0-9][A-Za-z0-9_-]{5,}/,
  /AIza[\w-]{6,}/,
  /acme_live_\w+/,
];
const lines: string[] = [];
/** Keeps structured log lines written to `stream` (stdout, or stderr where the CLI routes them) for the check. */
function capture(stream: NodeJS.WriteStream): void {
  const original = stream.write.bind(stream);
  stream.write = ((chunk: string | Uint8Array, ...rest: never[]) => {
    const text = String(chunk);
    if (text.startsWith('{"level"') || text.startsWith('{"_aws"')) {
      lines.push(text);
      return true;
    }
    return original(chunk, ...rest);
  }) as typeof stream.write;
}
capture(process.stdout);
capture(process.stderr);

afterAll(() => {
  const leaks = lines.filter((line) => SECRET_SHAPES.some((shape) => shape.test(line)));
  expect(leaks, 'log lines holding a key or a credential').toEqual([]);
});
