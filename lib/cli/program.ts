/**
 * The engine under the command table: turns `COMMANDS` (lib/cli/commands.ts) into a commander program, so
 * parsing, help, `--version`, unknown-command and unknown-flag errors with suggestions all come from the
 * one table, and runs the chosen entry. Exit codes: 0 ok, 1 failure, 2 usage error.
 */
import { Command, type CommanderError, Option } from 'commander';
import { InvalidError, OperationError } from '#shared/operations/errors.ts';
import { red } from '../terminal.ts';
import {
  type CommandEntry,
  type CommandInput,
  flagOf,
  type GlobalOptions,
  type OptionsSpec,
} from './command-spec.ts';
import { UsageError } from './output.ts';

/** How the program writes; the CLI passes stdout and stderr. */
export interface ProgramIo {
  out: (text: string) => void;
  err: (text: string) => void;
}

/** What {@link runProgram} needs besides argv. */
export interface ProgramContext {
  table: readonly CommandEntry[];
  /** One-line summaries of the command groups (`keys`, `providers credentials`). */
  groups: Readonly<Record<string, string>>;
  version: string;
  io: ProgramIo;
  /** Opens the stores for the global options (--stack/--region). */
  stores: (global: GlobalOptions) => CommandInput<OptionsSpec, []>['withStores'];
  /** Asks a yes/no question on the terminal; undefined when there is no terminal to ask on. */
  ask?: ((question: string) => Promise<boolean>) | undefined;
}

/** Help or the version was printed: exit 0 when asked for, 2 when a command was missing. */
class HelpShown extends Error {
  readonly code: number;
  constructor(code: number) {
    super('help shown');
    this.code = code;
  }
}

/** Commander's exits that only printed something. */
const PRINTED: Readonly<Record<string, number>> = {
  'commander.helpDisplayed': 0,
  'commander.version': 0,
  'commander.help': 2,
};

/** A usage error raised by commander, with the command path it happened in. */
class ParseError extends UsageError {
  readonly path: string;
  constructor(message: string, path: string) {
    super(message);
    this.path = path;
  }
}

/** Commander's wording, said our way: no `error:` prefix, the full command path, `did you mean …?`. */
function reword(err: CommanderError, path: string): string {
  const [first = '', ...rest] = err.message.replace(/^error: /, '').split('\n');
  const suggestion = /\(Did you mean (.+)\?\)/.exec(rest.join('\n'))?.[1];
  const where = path === '' ? '' : ` for '${path}'`;
  if (err.code === 'commander.unknownCommand') {
    const word = /'([^']*)'/.exec(first)?.[1] ?? '';
    const full = [path, word].filter((p) => p !== '').join(' ');
    const hint =
      suggestion === undefined
        ? ''
        : `; did you mean '${[path, suggestion].filter((p) => p !== '').join(' ')}'?`;
    return `unknown command '${full}'${hint}`;
  }
  if (err.code === 'commander.unknownOption')
    return `${first}${where}${suggestion === undefined ? '' : `; did you mean ${suggestion}?`}`;
  if (err.code === 'commander.excessArguments') return `too many arguments${where}`;
  if (err.code === 'commander.missingArgument') return `${path} needs ${/'([^']*)'/.exec(first)?.[1] ?? ''}`;
  return first;
}

function checkedInteger(flag: string) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isSafeInteger(n) || n < 0 || n > 6_553_500)
      throw new UsageError(`--${flag} must be a non-negative integer`);
    return n;
  };
}

function addOptions(cmd: Command, options: OptionsSpec): void {
  for (const [key, spec] of Object.entries(options)) {
    const flag = flagOf(key);
    const option = new Option(
      spec.type === 'boolean' ? `--${flag}` : `--${flag} <${spec.value ?? key.toUpperCase()}>`,
      spec.summary,
    );
    if (spec.env !== undefined) option.env(spec.env);
    if (spec.type === 'integer') option.argParser(checkedInteger(flag));
    cmd.addOption(option);
  }
}

function examplesText(examples: readonly string[]): string {
  return `\n${examples.length === 1 ? 'Example' : 'Examples'}:\n${examples.map((e) => `  ${e}`).join('\n')}\n`;
}

/** Checks what commander leaves to us (required options and positionals) and runs the entry. */
async function invoke(entry: CommandEntry, cmd: Command, ctx: ProgramContext): Promise<number> {
  const raw = cmd.optsWithGlobals<Record<string, unknown>>();
  const global: GlobalOptions = {
    json: raw.json === true,
    yes: raw.yes === true,
    stack: raw.stack as string | undefined,
    region: raw.region as string | undefined,
  };
  const options: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(entry.options)) {
    const value = raw[key];
    if (spec.required === true && (value === undefined || String(value).trim() === ''))
      throw new UsageError(`${entry.name} needs --${flagOf(key)} ${spec.value ?? key.toUpperCase()}`);
    options[key] = spec.type === 'boolean' ? value === true : value;
  }
  const args: Record<string, string | undefined> = {};
  entry.positionals.forEach((p, i) => {
    args[p.name] = cmd.processedArgs[i] as string | undefined;
  });
  const input = { args, options, global, withStores: ctx.stores(global) } as Parameters<
    CommandEntry['run']
  >[0];
  const question = global.yes ? undefined : entry.confirm?.(input);
  if (question !== undefined) {
    if (ctx.ask === undefined)
      throw new UsageError(
        `${entry.name} cannot be undone: add --yes to confirm (there is no terminal to ask on)`,
      );
    if (!(await ctx.ask(`${question} [y/N] `))) {
      ctx.io.err('Nothing changed.\n');
      return 1;
    }
  }
  return (await entry.run(input)) ?? 0;
}

/** Builds the commander program from the table; `result` receives the exit code of the command that ran. */
function buildProgram(ctx: ProgramContext, result: { code: number; path: string }): Command {
  const program = new Command('tollgate');
  const nodes = new Map<string, Command>([['', program]]);
  const configure = (cmd: Command, path: string): Command =>
    cmd
      .exitOverride((err) => {
        const printed = PRINTED[err.code];
        if (printed !== undefined) throw new HelpShown(printed);
        throw new ParseError(reword(err, path), path);
      })
      .configureOutput({ writeOut: ctx.io.out, writeErr: ctx.io.err, outputError: () => {} })
      .showSuggestionAfterError(true);
  configure(program, '')
    .description(
      'Self-hosted LLM API gateway. Without --stack the CLI works on the local installation (npm start); with it, on the deployed stack NAME, acting as your IAM principal.',
    )
    .version(ctx.version, '-v, --version')
    .option('--json', 'machine-readable output: exactly one JSON document on stdout')
    .option('--yes', 'confirm destructive commands without asking (needed when not on a terminal)')
    .option('--stack <NAME>', 'work on the deployed stack NAME instead of the local installation')
    .option('--region <R>', 'the AWS region of --stack')
    .addHelpText(
      'after',
      '\nExit codes: 0 ok, 1 failure, 2 usage error. Colour only on a terminal, never with NO_COLOR.\n',
    );
  const node = (path: string): Command => {
    const existing = nodes.get(path);
    if (existing !== undefined) return existing;
    const words = path.split(' ');
    const parent = node(words.slice(0, -1).join(' '));
    const created = configure(parent.command(words.at(-1) ?? path), path).description(ctx.groups[path] ?? '');
    const examples = ctx.table.filter((e) => e.name.startsWith(`${path} `)).flatMap((e) => e.examples);
    if (examples.length > 0) created.addHelpText('after', examplesText(examples));
    nodes.set(path, created);
    return created;
  };
  for (const entry of ctx.table) {
    const words = entry.name.split(' ');
    const parent = node(words.slice(0, -1).join(' '));
    const cmd = configure(parent.command(words.at(-1) ?? entry.name), entry.name)
      .description(entry.summary)
      .addHelpText('after', examplesText(entry.examples));
    for (const p of entry.positionals) cmd.argument(p.optional === true ? `[${p.name}]` : `<${p.name}>`);
    addOptions(cmd, entry.options);
    cmd.action(async (..._ignored: unknown[]) => {
      result.path = entry.name;
      result.code = await invoke(entry, cmd, ctx);
    });
    nodes.set(entry.name, cmd);
  }
  return program;
}

/** Runs the CLI over the table; returns the exit code. Never throws. */
export async function runProgram(argv: readonly string[], ctx: ProgramContext): Promise<number> {
  const result = { code: 0, path: '' };
  const json = argv.includes('--json');
  try {
    await buildProgram(ctx, result).parseAsync([...argv], { from: 'user' });
    return result.code;
  } catch (err) {
    if (err instanceof HelpShown) return err.code;
    return failure(err, { json, path: err instanceof ParseError ? err.path : result.path, ctx });
  }
}

/** How the command line names an input field: `--monthly-limit` for `monthlyLimitUsd`, `ID` for `id`. */
export function spelling(entry: CommandEntry | undefined, field: string): string | undefined {
  const option = Object.entries(entry?.options ?? {}).find(([key, spec]) => (spec.field ?? key) === field);
  if (option !== undefined) return `--${flagOf(option[0])}`;
  return entry?.positionals.find((p) => p.field === field)?.name;
}

/** The error's message in the command line's words (flags, not input fields). */
function messageOf(err: unknown, entry: CommandEntry | undefined): string {
  if (!(err instanceof Error)) return String(err);
  const field = err instanceof InvalidError ? err.field : undefined;
  const said = field === undefined ? undefined : spelling(entry, field);
  return field !== undefined && said !== undefined && err.message.startsWith(field)
    ? `${said}${err.message.slice(field.length)}`
    : err.message;
}

/** Prints a failure (one line on stderr; with --json also an error document on stdout); returns 1 or 2. */
function failure(err: unknown, how: { json: boolean; path: string; ctx: ProgramContext }): number {
  const { json } = how;
  const io = how.ctx.io;
  // Only the message: expected failures carry a sentence for the operator, and a stack trace helps no one here.
  const message = messageOf(
    err,
    how.ctx.table.find((e) => e.name === how.path),
  );
  if (err instanceof OperationError) {
    if (json) io.out(`${JSON.stringify({ error: { code: err.code, message } })}\n`);
    io.err(`${red('tollgate:')} ${message}\n`);
    return err.exitCode;
  }
  const usage = err instanceof UsageError;
  if (json) io.out(`${JSON.stringify({ error: { code: usage ? 'usage' : 'failed', message } })}\n`);
  io.err(`${red('tollgate:')} ${message}\n`);
  if (usage) {
    io.err(`Run 'tollgate${how.path === '' ? '' : ` ${how.path}`} --help' for usage.\n`);
    return 2;
  }
  return 1;
}
