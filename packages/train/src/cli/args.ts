import { UsageError } from '../errors.js';
import type { CliCommand, FlagSpec, ParsedCommandArgs } from './command.js';

export { UsageError };

/** `ofq <name> [--flag <v>]… <positionals>`: the synopsis generated from a command's spec. */
export function synopsis(c: CliCommand): string[] {
  if (c.synopses) return c.synopses.map((s) => `ofq ${c.name} ${s}`.trimEnd());
  const flags = c.flags.map((f) => (f.kind === 'boolean' ? `[--${f.name}]` : `[--${f.name} ${f.value ?? '<v>'}]${f.kind === 'list' ? '...' : ''}`));
  const pos = (c.positionals ?? []).map((p) => (p.required ? `<${p.name}>` : `[${p.name}]`));
  return [['ofq', c.name, ...pos, ...flags].join(' ')];
}

function usageErrorFor(c: CliCommand) {
  return (message: string) => new UsageError(`${message}\nusage: ${synopsis(c).join('\n       ')}`);
}

function findFlag(c: CliCommand, token: string): { spec: FlagSpec; inline?: string } | null {
  if (/^-[a-zA-Z]$/.test(token)) {
    const spec = c.flags.find((f) => f.short === token[1]);
    return spec ? { spec } : null;
  }
  const eq = token.indexOf('=');
  const name = eq > 0 ? token.slice(2, eq) : token.slice(2);
  const spec = c.flags.find((f) => f.name === name);
  return spec ? { spec, inline: eq > 0 ? token.slice(eq + 1) : undefined } : null;
}

/**
 * Strict parser of one command's arguments: every flag must be in the spec, string/list flags need a
 * value (`--out DIR` or `--out=DIR`, a value may not start with `--`), choices are checked, and at
 * most the declared positionals are accepted (required ones must be there). `--` ends the flags.
 */
export function parseCommandArgs(c: CliCommand, argv: string[]): ParsedCommandArgs {
  const fail = usageErrorFor(c);
  const out: ParsedCommandArgs = { flags: {}, positionals: [] };
  let flagsDone = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!flagsDone && a === '--') {
      flagsDone = true;
      continue;
    }
    if (flagsDone || !a.startsWith('-') || a === '-') {
      out.positionals.push(a);
      continue;
    }
    const hit = findFlag(c, a);
    if (!hit) throw fail(`unknown option ${a.split('=')[0]} for 'ofq ${c.name}'`);
    const { spec, inline } = hit;
    if (spec.kind === 'boolean') {
      if (inline !== undefined && !['true', 'false'].includes(inline)) throw fail(`--${spec.name} takes no value (got '${inline}')`);
      out.flags[spec.name] = inline !== 'false';
      continue;
    }
    let value = inline;
    if (value === undefined) {
      const next = argv[i + 1];
      if (next === undefined || next.startsWith('--')) throw fail(`--${spec.name} needs a value${spec.value ? ` ${spec.value}` : ''}`);
      value = next;
      i++;
    }
    if (spec.choices && !spec.choices.includes(value)) throw fail(`--${spec.name} must be one of ${spec.choices.join(', ')}, got '${value}'`);
    if (spec.kind === 'list') out.flags[spec.name] = [...((out.flags[spec.name] as string[] | undefined) ?? []), value];
    else if (out.flags[spec.name] !== undefined) throw fail(`--${spec.name} given twice`);
    else out.flags[spec.name] = value;
  }
  const pos = c.positionals ?? [];
  if (out.positionals.length > pos.length) {
    throw fail(`unexpected argument '${out.positionals[pos.length]}'${pos.length ? '' : ' (this command takes no positional arguments)'}`);
  }
  const missing = pos.find((p, i) => p.required && out.positionals[i] === undefined);
  if (missing) throw fail(`ofq ${c.name} needs <${missing.name}>`);
  c.validate?.(out, fail);
  return out;
}

/** The argument shape of command files written before the flag specs: options by name, `--set` apart. */
export interface ParsedArgs {
  command: string | undefined;
  positionals: string[];
  options: Record<string, string | boolean>;
  sets: string[];
}

/** ParsedCommandArgs (strictly parsed) as a ParsedArgs for those command files. */
export function legacyArgs(command: string, a: ParsedCommandArgs): ParsedArgs {
  const options: Record<string, string | boolean> = {};
  for (const [k, v] of Object.entries(a.flags)) if (v !== undefined && !Array.isArray(v)) options[k] = v;
  return { command, positionals: a.positionals, options, sets: (a.flags.set as string[] | undefined) ?? [] };
}
