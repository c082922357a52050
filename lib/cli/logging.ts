/**
 * Where the handlers' structured logs go when they run inside the CLI: to stderr, so stdout carries only
 * the command's output (`--json` is then exactly one document), as JSON lines or, for people, one short
 * human line per record.
 */
import { Console } from 'node:console';
import { Writable } from 'node:stream';
import { logger } from '#shared/log.ts';
import { colourOn } from '../terminal.ts';

/** `json`: the Powertools lines as they are; `human`: `12:03:04 INFO message key=value`. */
export type LogFormat = 'json' | 'human';

/** Attributes every Lambda log line carries that say nothing to someone at a terminal. */
const NOISE = new Set([
  'level',
  'message',
  'timestamp',
  'service',
  'cold_start',
  'function_arn',
  'function_memory_size',
  'function_name',
  'function_request_id',
  'sampling_rate',
  'xray_trace_id',
]);

/** One JSON log line as a human line; anything that is not a JSON object passes unchanged. */
export function humanLine(line: string, colour = false): string {
  let record: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(line);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return line;
    record = parsed as Record<string, unknown>;
  } catch {
    return line;
  }
  const time = typeof record.timestamp === 'string' ? record.timestamp.slice(11, 19) : '';
  const level = String(record.level ?? 'INFO');
  const shown = colour && level !== 'INFO' ? `\u001b[33m${level}\u001b[39m` : level;
  const extra = Object.entries(record)
    .filter(([key]) => !NOISE.has(key))
    .map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`);
  return [time, shown, String(record.message ?? ''), ...extra].filter((p) => p !== '').join(' ');
}

function humanStream(target: NodeJS.WriteStream): Writable {
  const colour = colourOn(target);
  return new Writable({
    write(chunk: Buffer | string, _encoding, done) {
      const text = String(chunk);
      target.write(
        `${text
          .split('\n')
          .filter((l) => l !== '')
          .map((l) => humanLine(l, colour))
          .join('\n')}\n`,
      );
      done();
    },
  });
}

/**
 * Sends the shared logger's lines to `target` in `format` until the returned function restores it. The
 * logger keeps its console in a private field with no public setter; replacing it is the one way to
 * redirect Powertools without touching the handlers.
 */
export function routeLogs(format: LogFormat, target: NodeJS.WriteStream = process.stderr): () => void {
  const previous: unknown = Reflect.get(logger, 'console');
  const sink = format === 'json' ? target : humanStream(target);
  Reflect.set(logger, 'console', new Console({ stdout: sink, stderr: sink }));
  return () => {
    Reflect.set(logger, 'console', previous);
  };
}
