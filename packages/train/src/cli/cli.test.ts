import { describe, expect, it } from 'vitest';
import { parseArgs, UsageError } from './args.js';
import { formatDoctor, doctor } from './doctor.js';
import { ProgressBar, formatDuration } from '../run/progress.js';

describe('parseArgs', () => {
  it('parses commands, values, repeated --set and booleans', () => {
    const a = parseArgs(['train', '--recipe', 'mnist-micro', '--set', 'a.b=1', '--set=c=x y', '--quiet', '--out=/tmp/r']);
    expect(a.command).toBe('train');
    expect(a.options).toMatchObject({ recipe: 'mnist-micro', quiet: true, out: '/tmp/r' });
    expect(a.sets).toEqual(['a.b=1', 'c=x y']);
    expect(parseArgs(['report', 'runs/x']).positionals).toEqual(['runs/x']);
    expect(() => parseArgs(['train', '--recipe'])).toThrow(UsageError);
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
