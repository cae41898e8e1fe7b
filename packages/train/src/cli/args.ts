/** Minimal argv parser: `--flag value`, `--flag=value`, repeatable `--set`, boolean flags, positionals. */
export interface ParsedArgs {
  command: string | undefined;
  positionals: string[];
  options: Record<string, string | boolean>;
  sets: string[];
}

export class UsageError extends Error {
  override name = 'UsageError';
}

export function parseArgs(argv: string[], booleanFlags: string[] = ['quiet', 'help', 'no-report', 'no-accel', 'report-only', 'teachers-only']): ParsedArgs {
  const out: ParsedArgs = { command: undefined, positionals: [], options: {}, sets: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '-h') {
      out.options.help = true;
    } else if (a === '-q') {
      out.options.quiet = true;
    } else if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      const key = eq > 0 ? a.slice(2, eq) : a.slice(2);
      let value: string | boolean;
      if (booleanFlags.includes(key)) {
        value = eq > 0 ? a.slice(eq + 1) !== 'false' : true;
      } else if (eq > 0) {
        value = a.slice(eq + 1);
      } else {
        const next = argv[i + 1];
        if (next === undefined || next.startsWith('--')) throw new UsageError(`--${key} needs a value`);
        value = next;
        i++;
      }
      if (key === 'set') out.sets.push(String(value));
      else out.options[key] = value;
    } else if (out.command === undefined) {
      out.command = a;
    } else {
      out.positionals.push(a);
    }
  }
  return out;
}
