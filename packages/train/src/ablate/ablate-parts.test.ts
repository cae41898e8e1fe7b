import { describe, expect, it } from 'vitest';
import { loadRecipe } from '../recipe/load.js';
import { seedsOf } from '../cli/ablate.js';
import { pairedDifference, spreadOf, tQuantile975 } from './paired-stats.js';
import { parseIntList, parseVariant, parseVariants, variantRecipe } from './variants.js';
import { lineChartSVG } from './svg-chart.js';

describe('ablation variants', () => {
  it('bases and modifiers', () => {
    expect(parseVariant('lsq')).toEqual({ name: 'lsq', weights: 'lsq', qkr: false, cga: false, lsqClamp: false });
    expect(parseVariant('statsq+qkr')).toMatchObject({ weights: 'statsq', qkr: true, cga: false });
    expect(parseVariant('ofq')).toMatchObject({ weights: 'statsq', qkr: true, cga: true });
    expect(parseVariant('lsq+qkr+cga')).toMatchObject({ weights: 'lsq', qkr: true, cga: true });
    expect(parseVariant('lsq+clamp').lsqClamp).toBe(true);
  });
  it('bad lists are refused by name', () => {
    expect(() => parseVariant('adaround')).toThrow(/unknown variant 'adaround'/);
    expect(() => parseVariant('lsq+foo')).toThrow(/unknown modifier '\+foo'/);
    expect(() => parseVariant('statsq+clamp')).toThrow(/only applies to lsq/);
    expect(() => parseVariants('lsq,lsq')).toThrow(/listed twice/);
    expect(() => parseVariants(',')).toThrow(/at least one/);
    expect(() => parseIntList('2,x', '--bits', () => true, 'integers')).toThrow(/--bits: expected a comma list of integers, got '2,x'/);
  });
  it('seeds: a count, a list or a range', () => {
    expect(seedsOf('3')).toEqual([1, 2, 3]);
    expect(seedsOf('4,7')).toEqual([4, 7]);
    expect(seedsOf('2..3')).toEqual([2, 3]);
    expect(seedsOf('2..2')).toEqual([2]);
    expect(seedsOf(undefined)).toEqual([1, 2, 3]);
    expect(() => seedsOf('3..1')).toThrow(/empty range/);
  });
  it("a variant's recipe: quantizers at the bits, the seed, the shared teacher, CGA only where asked", () => {
    const base = loadRecipe('mnist-micro');
    const r = variantRecipe(base, parseVariant('lsq+clamp'), 4, 7, '/t/w.safetensors');
    expect(r.quant).toMatchObject({ weightBits: 4, actBits: 4, method: 'lsq', qkr: false, lsqStep: 'clamp' });
    expect(r.stage2.cga).toBe(false);
    expect(r.seed).toBe(7);
    expect(r.teacher.weights).toBe('/t/w.safetensors');
    expect(r.name).toBe('mnist-micro/lsq+clamp/w4a4/seed7');
    const o = variantRecipe(base, parseVariant('ofq'), 2, 1, null);
    expect(o.quant).toMatchObject({ method: 'ofq', qkr: true, lsqStep: 'abs' });
    expect(o.stage2.cga).toBe(true);
    expect(o.teacher.weights).toBeNull();
    expect(base.seed).toBe(42); // the base is not modified
  });
});

describe('paired statistics', () => {
  it('t quantiles', () => {
    expect(tQuantile975(1)).toBe(12.706);
    expect(tQuantile975(2)).toBe(4.303);
    expect(tQuantile975(60)).toBeCloseTo(2.0, 2);
    expect(() => tQuantile975(0)).toThrow(RangeError);
  });
  it('hand-checked: differences 1, 2, 3 → mean 2, sd 1, 95% CI 2 ± 4.303/√3', () => {
    const d = pairedDifference([10, 20, 30], [11, 22, 33]);
    expect(d.diffs).toEqual([1, 2, 3]);
    expect(d.mean).toBe(2);
    expect(d.sd).toBe(1);
    expect(d.ci![0]).toBeCloseTo(2 - 4.303 / Math.sqrt(3), 12);
    expect(d.ci![1]).toBeCloseTo(2 + 4.303 / Math.sqrt(3), 12);
    expect([d.wins, d.losses]).toEqual([3, 0]);
    expect(pairedDifference([1], [0.5])).toMatchObject({ n: 1, mean: -0.5, sd: null, ci: null, losses: 1 });
    expect(spreadOf([])).toEqual({ n: 0, mean: null, sd: null, min: null, max: null });
    expect(() => pairedDifference([1], [1, 2])).toThrow(/paired/);
  });
});

describe('svg chart', () => {
  it('one polyline per series segment, gaps at null, escaped labels, a placeholder without data', () => {
    const svg = lineChartSVG({ title: 't', xLabel: 'step', yLabel: 'y', series: [{ label: 'a<b', x: [0, 1, 2, 3, 4], y: [1, 2, null, 3, 4] }] });
    expect(svg.match(/<polyline/g)!.length).toBe(2);
    expect(svg).toContain('a&lt;b');
    expect(lineChartSVG({ title: 'empty', xLabel: '', yLabel: '', series: [] })).toContain('no data');
  });
});
