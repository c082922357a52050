/** Terminal manners shared by the CLI and the local gateway: colour and spinners only on a TTY, never with NO_COLOR. */

/** True when colour may be used on a stream: a TTY, and NO_COLOR unset (https://no-color.org). */
export function colourOn(stream: NodeJS.WriteStream, env: NodeJS.ProcessEnv = process.env): boolean {
  return stream.isTTY === true && (env.NO_COLOR === undefined || env.NO_COLOR === '');
}

/** Red, when colour is on. */
export function red(text: string, stream: NodeJS.WriteStream = process.stderr): string {
  return colourOn(stream) ? `\u001b[31m${text}\u001b[39m` : text;
}

/**
 * A spinner while `work` runs, on a TTY only; elsewhere one plain line, so logs and pipes stay clean.
 */
export async function withSpinner<T>(
  label: string,
  work: () => Promise<T>,
  stream: NodeJS.WriteStream = process.stdout,
): Promise<T> {
  if (stream.isTTY !== true) {
    stream.write(`${label}…\n`);
    return work();
  }
  const frames = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
  let frame = 0;
  const timer = setInterval(() => stream.write(`\r${frames[frame++ % frames.length]} ${label}…`), 80);
  try {
    return await work();
  } finally {
    clearInterval(timer);
    stream.write(`\r${' '.repeat(label.length + 4)}\r`);
  }
}
