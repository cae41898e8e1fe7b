import { describe, expect, it } from 'vitest';
import { parseCommandArgs, UsageError } from './args.js';
import { trainCommand } from './train-command.js';
import { evalCommand } from './eval-command.js';
import { COMMANDS } from './commands.js';
import { globalHelp } from './help.js';
import { exitCodeOf, formatError } from '../cli.js';
import { CheckpointError, NonFiniteLossError, RecipeError } from '../errors.js';
import { formatDoctor, doctor } from './doctor.js';
import { ProgressBar, formatDuration } from '../run/progress.js';

describe('parseCommandArgs (strict)', () => {
  it('parses values, repeated --set, booleans and positionals', () => {
    const a = parseCommandArgs(trainCommand, ['--recipe', 'mnist-micro', '--set', 'a.b=1', '--set=c=x y', '--quiet', '--out=/tmp/r']);
    expect(a.flags).toMatchObject({ recipe: 'mnist-micro', quiet: true, out: '/tmp/r', set: ['a.b=1', 'c=x y'] });
    expect(parseCommandArgs(evalCommand, ['runs/x', '-q']).positionals).toEqual(['runs/x']);
  });
  it('refuses unknown flags, missing values, stray positionals, bad choices, with the usage line', () => {
    const bad: Array<[string[], RegExp]> = [
      [['--outt', 'X', '--recipe', 'mnist-micro'], /unknown option --outt for 'ofq train'\nusage: ofq train --recipe/],
      [['--recipe'], /--recipe needs a value/],
      [['--recipe', '--quiet'], /--recipe needs a value/],
      [['--recipe', 'mnist-micro', 'extra'], /unexpected argument 'extra'/],
      [['--recipe', 'mnist-micro', '--backend', 'gpu9'], /--backend must be one of auto, wasm, cpu/],
      [['--recipe', 'mnist-micro', '--quiet=yes'], /--quiet takes no value/],
      [['--resume', 'r', '--set', 'a=1'], /cannot be combined with --set/],
      [['--resume', 'r', '--recipe', 'x', '--out', 'o'], /cannot be combined with --recipe, --out/],
      [[], /needs --recipe/],
    ];
    for (const [argv, re] of bad) {
      expect(() => parseCommandArgs(trainCommand, argv), argv.join(' ')).toThrow(UsageError);
      expect(() => parseCommandArgs(trainCommand, argv), argv.join(' ')).toThrow(re);
    }
    expect(() => parseCommandArgs(evalCommand, [])).toThrow(/ofq eval needs <runDir>/);
  });
  it('--help lists every flag of every command and every choice', () => {
    const help = globalHelp(COMMANDS);
    for (const c of COMMANDS) {
      expect(help).toContain(`ofq ${c.name}`);
      for (const f of c.flags) {
        expect(help, `${c.name} --${f.name}`).toContain(`--${f.name}`);
        for (const v of f.choices ?? []) expect(help).toContain(v);
      }
    }
    expect(help).toContain('--no-report');
    expect(help).toMatch(/native/);
  });
});

describe('error printing', () => {
  it('user errors without a stack, disk refusals in one line naming the path, bugs with their stack', () => {
    expect(formatError(new RecipeError('invalid recipe x.yaml:\n  stage1.lr: bad'))).toBe('invalid recipe x.yaml:\n  stage1.lr: bad');
    const full = Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', path: '/runs/a/metrics.jsonl' });
    expect(formatError(full)).toMatch(/^cannot write \/runs\/a\/metrics\.jsonl: .*\(ENOSPC\); the last saved checkpoint is intact/);
    expect(formatError(full)).not.toContain('\n');
    const bug = new TypeError('x is undefined');
    expect(formatError(bug)).toContain('\n    at ');
    expect([exitCodeOf(new UsageError('u')), exitCodeOf(new NonFiniteLossError('n')), exitCodeOf(new CheckpointError('c')), exitCodeOf(bug)]).toEqual([2, 3, 1, 1]);
  });
});

describe('progress bar', () => {
  it('shows count, ETA and stats', () => {
    const bar = new ProgressBar(process.stderr, false, 10);
    bar.start('stage1 1/3', 100);
    const line = bar.render(50, { loss: '0.1234', 'img/s': '150' });
    expect(line).toMatch(/^stage1 1\/3 \[█████░░░░░\] 50\/100 \d+:\d\d<\d+:\d\d · loss 0\.1234 · img\/s 150$/);
    expect(formatDuration(3725)).toBe('1:02:05');
    expect(formatDuration(65)).toBe('1:05');
    expect(formatDuration(NaN)).toBe('--:--');
  });
});

describe('doctor', () => {
  it('reports tfjs versions, a single tfjs-core copy, backends and the chosen one', async () => {
    const r = await doctor(async () => 'cpu', async () => 'stock');
    const core = r.packages.find((p) => p.name === '@tensorflow/tfjs-core')!;
    expect(core.version).toBe('4.22.0');
    expect(r.tfjsCoreCopies.length).toBe(1);
    expect(r.backends.find((b) => b.name === 'wasm')?.available).toBe(true);
    const text = formatDoctor(r);
    expect(text).toMatch(/chosen backend \(auto\): cpu/);
    expect(text).toMatch(/tfjs-core copies: 1 \(ok\)/);
  });
});
