import { commandList, commandUsage, parseCommandLine, type Command } from './command';
import { COMMANDS } from './commands';
import { connect } from './connection';
import { UsageError } from './errors';

export interface Streams {
  out: (text: string) => void;
  err: (text: string) => void;
}

const TOP_USAGE = `usage: mailpull COMMAND [ARGUMENTS] [options]

mailpull's command line. Most commands talk to the API (--api-url or MAILPULL_API_URL, default
http://127.0.0.1:8080; --token or MAILPULL_API_TOKEN, on the embedded default .data/api-token).
Those marked [database] work on the database itself and need DATABASE_URL (and, for secrets, the
secret key variables); scripts/mailpull.sh sets both on the embedded default.
"mailpull COMMAND --help" explains each command; --json prints any result as JSON.

commands:
${commandList(COMMANDS)}`;

/** The command the leading words name: the usage of what they name so far otherwise. */
function select(argv: string[]): { command: Command; rest: string[] } | { help: string; error: string | null } {
  const [first, second] = argv;
  if (first === undefined || first === '--help' || first === '-h' || first === 'help') {
    return { help: TOP_USAGE, error: first === undefined ? 'missing command' : null };
  }
  const single = COMMANDS.find((c) => c.words.length === 1 && c.words[0] === first);
  if (single) return { command: single, rest: argv.slice(1) };
  const group = COMMANDS.filter((c) => c.words[0] === first);
  if (group.length === 0) return { help: TOP_USAGE, error: `unknown command "${first}"` };
  const command = group.find((c) => c.words[1] === second);
  if (command) return { command, rest: argv.slice(2) };
  const groupHelp = `usage: mailpull ${first} SUBCOMMAND [ARGUMENTS] [options]\n\n${commandList(group)}`;
  if (second === '--help' || second === '-h') return { help: groupHelp, error: null };
  return { help: groupHelp, error: second === undefined ? `missing subcommand of ${first}` : `unknown subcommand "${first} ${second}"` };
}

/** Runs one command line; returns the exit code: 0 done, 1 failed, 2 a wrong command line. */
export async function runCli(argv: string[], io: Streams): Promise<number> {
  const selected = select(argv);
  if ('help' in selected) {
    if (selected.error === null) {
      io.out(selected.help);
      return 0;
    }
    io.err(`mailpull: ${selected.error}\n\n${selected.help}`);
    return 2;
  }
  const { command, rest } = selected;
  try {
    const parsed = parseCommandLine(command, rest);
    if (parsed.help) {
      io.out(commandUsage(command));
      return 0;
    }
    const output = await command.run({ args: parsed.args, options: parsed.options, api: () => connect(parsed.options), progress: io.err });
    io.out(parsed.options.flag('json') ? JSON.stringify(output.json, null, 2) : output.text);
    return output.failed ? 1 : 0;
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(`mailpull: ${err.message}\n\n${err.usage}`);
      return 2;
    }
    io.err(`mailpull: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
}
