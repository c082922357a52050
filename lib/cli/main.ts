/** The `tollgate` command line: the command table run by the program engine, logs kept off stdout. */
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline/promises';
import type { GlobalOptions } from './command-spec.ts';
import { COMMANDS, GROUPS } from './commands.ts';
import { type Stores, withLocalStores } from './context.ts';
import { routeLogs } from './logging.ts';
import { runProgram } from './program.ts';
import { withStackStores } from './stack-target.ts';

const VERSION = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

/** Stores for the target: the deployed stack named by --stack, else the local installation. */
function targetStores(global: GlobalOptions) {
  return <T>(work: (stores: Stores) => Promise<T>): Promise<T> =>
    global.stack === undefined ? withLocalStores(work) : withStackStores(global.stack, global.region, work);
}

/** Asks on the terminal (stderr, so stdout stays the command's output); only `y` or `yes` confirms. */
async function ask(question: string): Promise<boolean> {
  const terminal = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await terminal.question(question)).trim());
  } finally {
    terminal.close();
  }
}

/** Runs the CLI; returns the exit code. Never throws. */
export async function main(argv: string[]): Promise<number> {
  const restore = routeLogs(process.stderr.isTTY === true ? 'human' : 'json');
  try {
    return await runProgram(argv, {
      table: COMMANDS,
      groups: GROUPS,
      version: VERSION,
      io: { out: (text) => process.stdout.write(text), err: (text) => process.stderr.write(text) },
      stores: targetStores,
      ask: process.stdin.isTTY === true && process.stderr.isTTY === true ? ask : undefined,
    });
  } finally {
    restore();
  }
}
