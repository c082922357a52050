/**
 * A command that is a thin call of a management operation: its options and positionals fill the
 * operation's input fields, the input is checked before any storage starts, and the result is printed as
 * JSON (`--json`, the same document `/admin` answers) or for people.
 */
import type { Operation } from '#shared/operations/schema.ts';
import {
  type CommandEntry,
  type CommandInput,
  type CommandSpec,
  command,
  flagOf,
  type OptionSpec,
  type PositionalSpec,
} from './command-spec.ts';
import { printJson, UsageError } from './output.ts';

type OptionsSpec = Readonly<Record<string, OptionSpec>>;

/** Sets `raw[a][b]` for the field `a.b`. */
function assign(raw: Record<string, unknown>, field: string, value: unknown): void {
  const [head = field, ...rest] = field.split('.');
  if (rest.length === 0) {
    raw[head] = value;
    return;
  }
  const inner = (raw[head] ?? {}) as Record<string, unknown>;
  raw[head] = inner;
  assign(inner, rest.join('.'), value);
}

/** The operation input the command line gives: each option and positional under its field. */
export function inputFrom(
  entry: Pick<CommandEntry, 'options' | 'positionals'>,
  given: { args: Readonly<Record<string, unknown>>; options: Readonly<Record<string, unknown>> },
): Record<string, unknown> {
  const raw: Record<string, unknown> = {};
  const setBy: Record<string, string> = {};
  for (const [key, spec] of Object.entries(entry.options)) {
    const value = given.options[key];
    const field = spec.field ?? key;
    // A switch that is off says nothing; absent options stay absent.
    if (field === false || value === undefined || value === false) continue;
    const previous = setBy[field];
    if (previous !== undefined)
      throw new UsageError(`give --${flagOf(previous)} or --${flagOf(key)}, not both`);
    setBy[field] = key;
    assign(raw, field, spec.clears === true ? null : value);
  }
  for (const p of entry.positionals)
    if (p.field !== undefined && given.args[p.name] !== undefined) assign(raw, p.field, given.args[p.name]);
  return raw;
}

/** An operation command's declaration: an entry without `run`, plus the operation and its printing. */
export interface OperationCommandSpec<O extends OptionsSpec, P extends readonly PositionalSpec[], R>
  extends Omit<CommandSpec<O, P>, 'run'> {
  operation: Operation<R>;
  /** Adds input only the CLI can supply (a secret from stdin, a file's text) to the mapped fields. */
  complete?: (raw: Record<string, unknown>, given: CommandInput<O, P>) => Promise<Record<string, unknown>>;
  /** The human form of the result. */
  print: (result: R, given: CommandInput<O, P>) => void;
  /** Restates a refusal in the command line's terms (a file name and its positions). */
  explain?: (err: unknown, given: CommandInput<O, P>) => unknown;
}

/** Declares a command that runs `operation`. */
export function operationCommand<
  const O extends OptionsSpec = Record<never, never>,
  const P extends readonly PositionalSpec[] = [],
  R = unknown,
>(spec: OperationCommandSpec<O, P, R>): CommandEntry {
  const { operation, complete, print, explain, ...rest } = spec;
  const shape = { options: spec.options ?? {}, positionals: spec.positionals ?? [] };
  return command<O, P>({
    ...rest,
    run: async (given) => {
      const mapped = inputFrom(shape, given);
      let result: R;
      try {
        const work = operation.prepare(complete === undefined ? mapped : await complete(mapped, given));
        result = await given.withStores(work);
      } catch (err) {
        throw explain?.(err, given) ?? err;
      }
      if (given.global.json) printJson(result);
      else print(result, given);
      return 0;
    },
  });
}
