import { synopsis } from './args.js';
import type { CliCommand, FlagSpec } from './command.js';

const HEADER = 'ofq: train and evaluate oscillation-free quantized vision transformers (OFQ, ICML 2023)';

function flagLines(flags: FlagSpec[]): string[] {
  return flags.map((f) => {
    const name = `${f.short ? `-${f.short}, ` : ''}--${f.name}${f.kind === 'boolean' ? '' : ` ${f.value ?? '<v>'}`}`;
    const choices = f.choices ? ` (${f.choices.join(' | ')})` : '';
    return `  ${name.padEnd(26)} ${f.help}${choices}`;
  });
}

/** Help of one command: synopsis, summary, every flag with its choices. */
export function commandHelp(c: CliCommand): string {
  const lines = [`usage: ${synopsis(c).join('\n       ')}`, '', c.summary];
  if (c.flags.length) lines.push('', 'options:', ...flagLines(c.flags));
  return lines.join('\n');
}

/** `ofq --help`: every command with its synopsis and flags. */
export function globalHelp(commands: CliCommand[]): string {
  const lines = [HEADER, '', 'usage:'];
  for (const c of commands) lines.push(...synopsis(c).map((s) => `  ${s}`));
  for (const c of commands) {
    lines.push('', `ofq ${c.name}: ${c.summary}`);
    if (c.flags.length) lines.push(...flagLines(c.flags));
  }
  lines.push('', '`ofq <command> --help` shows one command. Ctrl-C saves a checkpoint and exits; resume with --resume.');
  return lines.join('\n');
}
