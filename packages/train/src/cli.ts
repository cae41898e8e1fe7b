// The `ofq` command line: a table of subcommands (cli/commands.ts), each with its own flag spec.
import { isOfqError } from '@ofq/core';
import { NonFiniteLossError, UsageError } from './errors.js';
import { parseCommandArgs } from './cli/args.js';
import { COMMANDS } from './cli/commands.js';
import { commandHelp, globalHelp } from './cli/help.js';
import type { CliIO } from './cli/command.js';
import { diskErrorCode } from './run/durable-fs.js';

const stdio: CliIO = {
  out: (line) => process.stdout.write(line + '\n'),
  err: (line) => process.stderr.write(line + '\n'),
};

const wantsHelp = (argv: string[]) => {
  const end = argv.indexOf('--');
  return (end < 0 ? argv : argv.slice(0, end)).some((a) => a === '--help' || a === '-h');
};

/** Runs one `ofq` invocation; returns its exit status (user errors are thrown, see `run`). */
export async function main(argv: string[], io: CliIO = stdio): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    const c = name === 'help' ? COMMANDS.find((x) => x.name === rest[0]) : undefined;
    io.out(c ? commandHelp(c) : globalHelp(COMMANDS));
    return name === undefined ? 1 : 0;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    throw new UsageError(`unknown command '${name}' (${COMMANDS.map((c) => c.name).join(', ')}); run \`ofq --help\` for usage`);
  }
  if (wantsHelp(rest)) {
    io.out(commandHelp(command));
    return 0;
  }
  return command.run(parseCommandArgs(command, rest), io);
}

/** The one line printed for an error: the message of a user error, the stack of a bug. */
export function formatError(e: unknown): string {
  if (isOfqError(e)) return e.message;
  const code = diskErrorCode(e);
  if (code) {
    const path = (e as { path?: string }).path ?? '(unknown path)';
    return `cannot write ${path}: ${(e as Error).message} (${code}); the last saved checkpoint is intact, resume with --resume once there is room`;
  }
  return e instanceof Error ? (e.stack ?? e.message) : String(e);
}

/** Exit status of an error: 2 usage, 3 non-finite loss, 1 anything else. */
export function exitCodeOf(e: unknown): number {
  return e instanceof UsageError ? 2 : e instanceof NonFiniteLossError ? 3 : 1;
}

/** Runs the CLI with process.argv and exits with its status (the `ofq` bin). */
export function run(argv = process.argv.slice(2)): void {
  main(argv).then(
    (code) => process.exit(code),
    (e: unknown) => {
      process.stderr.write(`ofq: ${formatError(e)}\n`);
      process.exit(exitCodeOf(e));
    },
  );
}
