import { UsageError } from '../errors.js';

// The shape of one `ofq` subcommand. Each lives in its own `*-command.ts` file and is listed once in
// `commands.ts`; the parser, `--help` and the usage lines are generated from these specs.

export type FlagKind = 'string' | 'boolean' | 'list';

export interface FlagSpec {
  /** Long name without dashes (`out` for `--out`). */
  name: string;
  kind: FlagKind;
  /** Placeholder in the usage line (`<runDir>`). */
  value?: string;
  /** Allowed values of a string flag (checked by the parser, listed by `--help`). */
  choices?: readonly string[];
  /** Single-letter alias (`q` for `-q`). */
  short?: string;
  help: string;
}

export interface PositionalSpec {
  name: string;
  required: boolean;
  help?: string;
}

export interface ParsedCommandArgs {
  /** Strings for string flags, booleans for boolean flags, arrays for list flags; absent flags are undefined. */
  flags: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
}

/** Where a command writes: stdout for results, stderr for progress and messages. */
export interface CliIO {
  out(line: string): void;
  err(line: string): void;
}

export interface CliCommand {
  name: string;
  /** One line for the command list. */
  summary: string;
  /** Alternative synopses shown in the usage (default: generated from flags and positionals). */
  synopses?: string[];
  flags: FlagSpec[];
  positionals?: PositionalSpec[];
  /** Extra checks between flags (e.g. `--resume` excludes `--recipe`); throw a UsageError. */
  validate?(args: ParsedCommandArgs, usageError: (message: string) => UsageError): void;
  run(args: ParsedCommandArgs, io: CliIO): Promise<number>;
}

/** Flags of every command that sets up tfjs. */
export const BACKEND_CHOICES = ['auto', 'wasm', 'cpu', 'tensorflow', 'tensorflow-gpu'] as const;
export const ACCEL_CHOICES = ['auto', 'onnxruntime', 'native', 'wasm', 'off'] as const;

export const RUNTIME_FLAGS: FlagSpec[] = [
  { name: 'backend', kind: 'string', value: '<b>', choices: BACKEND_CHOICES, help: 'tfjs backend (default auto: tfjs-node when installed, else wasm, else cpu)' },
  { name: 'accel', kind: 'string', value: '<e>', choices: ACCEL_CHOICES, help: '@ofq/accel kernel engine on wasm/cpu (default auto)' },
  { name: 'no-accel', kind: 'boolean', help: 'same as --accel off' },
];

export const QUIET_FLAG: FlagSpec = { name: 'quiet', kind: 'boolean', short: 'q', help: 'no progress bars (for CI); only the result lines' };

/** The value of a string flag, or a default. */
export function stringFlag(args: ParsedCommandArgs, name: string, fallback: string): string;
export function stringFlag(args: ParsedCommandArgs, name: string): string | undefined;
export function stringFlag(args: ParsedCommandArgs, name: string, fallback?: string): string | undefined {
  const v = args.flags[name];
  return typeof v === 'string' ? v : fallback;
}

/**
 * A flag's raw value as an integer of at least `min` (0 or 1), or undefined when the flag is absent; anything
 * else is a UsageError naming the flag.
 */
export function parseIntegerFlag(name: string, raw: unknown, min: 0 | 1): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`--${name} must be a ${min === 0 ? 'non-negative' : 'positive'} integer, got '${String(raw)}'`);
  return n;
}

/** `--name` as an integer of at least `min` (see `parseIntegerFlag`). */
export function integerFlag(args: ParsedCommandArgs, name: string, min: 0 | 1): number | undefined {
  return parseIntegerFlag(name, stringFlag(args, name), min);
}

/** The accel engine from `--accel` / `--no-accel`. */
export function accelFlag(args: ParsedCommandArgs): string {
  return args.flags['no-accel'] ? 'off' : stringFlag(args, 'accel', 'auto');
}
