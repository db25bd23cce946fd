import { parseArgs } from 'node:util';
import type { ApiClient } from './api-client';
import { UsageError } from './errors';
import type { Output } from './output';

export interface OptionSpec {
  type: 'string' | 'boolean';
  /** what the value is, shown in the help: --port N */
  value?: string;
  description: string;
  /** may be given more than once (a string option): read with strings() */
  multiple?: boolean;
}

export interface ArgSpec {
  name: string;
  required: boolean;
  /** takes every remaining argument */
  variadic?: boolean;
}

/** Where a command works: through the API (URL and token), on the database (DATABASE_URL), or on its own. */
export type Needs = 'api' | 'database' | 'none';

export interface CommandInput {
  args: string[];
  options: ParsedOptions;
  /** the API client; asking for it checks the URL and the token */
  api: () => ApiClient;
  /** what a long command tells its user while it runs (standard error; the result goes to standard output) */
  progress: (text: string) => void;
}

export interface Command {
  /** the words that select it, e.g. ['domains', 'add'] */
  words: string[];
  summary: string;
  args?: ArgSpec[];
  options?: Record<string, OptionSpec>;
  needs: Needs;
  run(input: CommandInput): Promise<Output>;
}

export const GLOBAL_OPTIONS: Record<string, OptionSpec> = {
  json: { type: 'boolean', description: 'print the result as JSON' },
  help: { type: 'boolean', description: 'show this help' },
};

export const API_OPTIONS: Record<string, OptionSpec> = {
  'api-url': { type: 'string', value: 'URL', description: 'the mailpull API (default $MAILPULL_API_URL, else http://127.0.0.1:8080)' },
  token: {
    type: 'string',
    value: 'TOKEN',
    description: 'an API token (default $MAILPULL_API_TOKEN, else .data/api-token on the embedded default)',
  },
};

/** Typed access to what parseArgs found. */
export class ParsedOptions {
  constructor(
    private readonly values: Record<string, string | boolean | string[] | undefined>,
    private readonly usage: string,
  ) {}

  string(name: string): string | undefined {
    const v = this.values[name];
    return typeof v === 'string' ? v : undefined;
  }

  /** Every value of an option that may be given more than once, in order. */
  strings(name: string): string[] {
    const v = this.values[name];
    return Array.isArray(v) ? v : typeof v === 'string' ? [v] : [];
  }

  flag(name: string): boolean {
    return this.values[name] === true;
  }

  /** A whole number within bounds, or a usage error naming the option. */
  integer(name: string, min: number, max: number): number | undefined {
    const v = this.string(name);
    if (v === undefined) return undefined;
    if (!/^[0-9]{1,15}$/.test(v) || Number(v) < min || Number(v) > max) {
      throw new UsageError(`--${name} must be a whole number from ${min} to ${max}, not "${v}"`, this.usage);
    }
    return Number(v);
  }

  oneOf<T extends string>(name: string, allowed: readonly T[]): T | undefined {
    const v = this.string(name);
    if (v === undefined) return undefined;
    if (!(allowed as readonly string[]).includes(v))
      throw new UsageError(`--${name} must be one of ${allowed.join(', ')}, not "${v}"`, this.usage);
    return v as T;
  }
}

const optionsOf = (command: Command): Record<string, OptionSpec> => ({
  ...(command.options ?? {}),
  ...(command.needs === 'api' ? API_OPTIONS : {}),
  ...GLOBAL_OPTIONS,
});

/** Parses the arguments after the command's words; --help is reported, not an error. */
export function parseCommandLine(command: Command, argv: string[]): { args: string[]; options: ParsedOptions; help: boolean } {
  const usage = commandUsage(command);
  const specs = optionsOf(command);
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: Object.fromEntries(Object.entries(specs).map(([name, s]) => [name, { type: s.type, multiple: s.multiple === true }])),
      allowPositionals: true,
      strict: true,
    });
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err), usage);
  }
  const values = parsed.values as Record<string, string | boolean | string[] | undefined>;
  if (values.help === true) return { args: [], options: new ParsedOptions(values, usage), help: true };
  const args = parsed.positionals;
  const specsArgs = command.args ?? [];
  const required = specsArgs.filter((a) => a.required).length;
  const variadic = specsArgs.some((a) => a.variadic);
  if (args.length < required) {
    const missing = specsArgs.filter((a) => a.required)[args.length];
    throw new UsageError(`missing argument ${missing.name}`, usage);
  }
  if (!variadic && args.length > specsArgs.length) throw new UsageError(`unexpected argument "${args[specsArgs.length]}"`, usage);
  return { args, options: new ParsedOptions(values, usage), help: false };
}

const NEEDS_TEXT: Record<Needs, string> = {
  api: 'Talks to the API: needs its URL and a token.',
  database:
    'Works on the database directly: needs DATABASE_URL (and the secret key variables for secrets); scripts/mailpull.sh sets them on the embedded default.',
  none: '',
};

const argText = (a: ArgSpec): string => {
  const name = a.variadic ? `${a.name}...` : a.name;
  return a.required ? name : `[${name}]`;
};

/** The command's full help: synopsis, summary, options and where it works. */
export function commandUsage(command: Command): string {
  const synopsis = ['usage: mailpull', ...command.words, ...(command.args ?? []).map(argText), '[options]'].join(' ');
  const lines = [synopsis, '', command.summary];
  const own = Object.entries(command.options ?? {});
  if (own.length) lines.push('', 'options:', ...optionLines(own));
  lines.push('', 'common options:', ...optionLines(Object.entries({ ...(command.needs === 'api' ? API_OPTIONS : {}), ...GLOBAL_OPTIONS })));
  if (NEEDS_TEXT[command.needs]) lines.push('', NEEDS_TEXT[command.needs]);
  return lines.join('\n');
}

function optionLines(entries: [string, OptionSpec][]): string[] {
  const heads = entries.map(([name, s]) => `  --${name}${s.value ? ` ${s.value}` : ''}`);
  const width = Math.max(...heads.map((h) => h.length));
  return entries.map(([, s], i) => `${heads[i].padEnd(width)}  ${s.description}${s.multiple ? ' (may be repeated)' : ''}`);
}

/** One line per command: what `mailpull --help` and a group's help list. */
export function commandList(commands: readonly Command[]): string {
  const heads = commands.map((c) => [...c.words, ...(c.args ?? []).map(argText)].join(' '));
  const width = Math.max(...heads.map((h) => h.length));
  return commands
    .map((c, i) => `  ${heads[i].padEnd(width)}  ${c.summary.split('\n')[0]}${c.needs === 'database' ? ' [database]' : ''}`)
    .join('\n');
}
