/**
 * The shape of one entry of the command table (lib/cli/commands.ts): its positionals, typed options,
 * examples and handler, and the helpers that describe an entry (`command`, `flagOf`, `synopsis`).
 */
import type { Stores } from './context.ts';

/** One option of a command. Its key in `options` is the camelCase of the flag (`monthlyLimit` → `--monthly-limit`). */
export interface OptionSpec {
  /** `string` takes a value, `boolean` is a switch, `integer` a non-negative integer checked while parsing. */
  type: 'string' | 'boolean' | 'integer';
  /** The value's placeholder in help (`USD`, `ID`); defaults to the upper-cased key. */
  value?: string;
  summary: string;
  /** Missing → usage error `<command> needs --flag VALUE` before anything starts. */
  required?: boolean;
  /** An environment variable read when the flag is absent. */
  env?: string;
  /**
   * The operation input field the option fills (dotted for nested: `credential.priority`); defaults to the
   * key; `false` for options only the CLI reads. Errors about the field then name the flag.
   */
  field?: string | false;
  /** A switch that removes its field's value (`--clear-rpm`): it sends `null` for the field. */
  clears?: boolean;
}

/** One positional argument; required unless `optional`. */
export interface PositionalSpec {
  name: string;
  optional?: boolean;
  /** The operation input field it fills (`id`); errors about the field then name the positional. */
  field?: string;
}

export type OptionsSpec = Readonly<Record<string, OptionSpec>>;

type OptionValue<S extends OptionSpec> = S['type'] extends 'boolean'
  ? boolean
  : S['type'] extends 'integer'
    ? number | undefined
    : S['required'] extends true
      ? string
      : string | undefined;

/** Parsed option values, typed from the entry's `options`. */
export type OptionValues<O extends OptionsSpec> = { [K in keyof O]: OptionValue<O[K]> };

/** Parsed positionals by name, typed from the entry's `positionals`. */
export type ArgValues<P extends readonly PositionalSpec[]> = {
  [K in P[number] as K['name']]: K['optional'] extends true ? string | undefined : string;
};

/** Options every command takes. */
export interface GlobalOptions {
  json: boolean;
  yes: boolean;
  stack?: string | undefined;
  region?: string | undefined;
}

/** What a command's handler receives. */
export interface CommandInput<O extends OptionsSpec, P extends readonly PositionalSpec[]> {
  args: ArgValues<P>;
  options: OptionValues<O>;
  global: GlobalOptions;
  /** Opens the target's stores (the deployed stack with --stack, else the local installation); check input first. */
  withStores: <T>(work: (stores: Stores) => Promise<T>) => Promise<T>;
}

/** One entry of the command table, as written. */
export interface CommandSpec<O extends OptionsSpec, P extends readonly PositionalSpec[]> {
  /** Space-separated path: `keys create`, `providers credentials add`. */
  name: string;
  summary: string;
  positionals?: P;
  options?: O;
  /** Shown under `--help` and in the README; at least one per command. */
  examples: readonly string[];
  /**
   * For destructive commands: the question to confirm (undefined: nothing to confirm this time). Asked on
   * a terminal; elsewhere the command needs `--yes`.
   */
  confirm?: (input: CommandInput<O, P>) => string | undefined;
  /** Returns the exit code (default 0); throws {@link UsageError} for 2, an OperationError for its exit code, anything else for 1. */
  run: (input: CommandInput<O, P>) => Promise<number | undefined>;
}

/** An entry with its types erased, as the table holds it. */
export interface CommandEntry {
  name: string;
  summary: string;
  positionals: readonly PositionalSpec[];
  options: OptionsSpec;
  examples: readonly string[];
  confirm: ((input: CommandInput<OptionsSpec, readonly PositionalSpec[]>) => string | undefined) | undefined;
  run: (input: CommandInput<OptionsSpec, readonly PositionalSpec[]>) => Promise<number | undefined>;
}

/** Declares one entry; the generics type the handler's `args` and `options` from the declaration. */
export function command<
  const O extends OptionsSpec = Record<never, never>,
  const P extends readonly PositionalSpec[] = [],
>(spec: CommandSpec<O, P>): CommandEntry {
  return {
    name: spec.name,
    summary: spec.summary,
    positionals: spec.positionals ?? [],
    options: spec.options ?? {},
    examples: spec.examples,
    confirm: spec.confirm as CommandEntry['confirm'],
    run: spec.run as CommandEntry['run'],
  };
}

/** The flag of an option key: `monthlyLimit` → `monthly-limit`. */
export function flagOf(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/** The one-line synopsis of an entry: `keys show ID [--json]`-style, from the table. */
export function synopsis(entry: CommandEntry): string {
  const args = entry.positionals.map((p) => (p.optional === true ? `[${p.name}]` : p.name));
  const opts = Object.entries(entry.options).map(([key, spec]) => {
    const flag = `--${flagOf(key)}${spec.type === 'boolean' ? '' : ` ${spec.value ?? key.toUpperCase()}`}`;
    return spec.required === true ? flag : `[${flag}]`;
  });
  return [entry.name, ...args, ...opts].join(' ');
}
