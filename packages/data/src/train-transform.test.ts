import { describe, expect, it } from 'vitest';
import { createTrainTransform } from './train-transform.js';
import { flipHorizontal } from './image.js';
import { CounterDraws } from './draws.js';
import { goldenEvalCrop, goldenIndex, goldenSource, sha256, TraceDraws } from './golden-testing.js';

/** The pipeline record's separate RNG streams, in the order our single stream consumes them. */
function pipelineTrace(rec: any): any[] {
  const t = rec.draw_trace;
  const choices = t.randaug_numpy_choice.flatMap((d: any) => d.indices.map((index: number) => ({ draw: 'choice', n: d.n, index })));
  const flip = t.flip_torch.map((d: any) => ({ ...d }));
  const ra = t.randaug_python_random.map((d: any) => (d.draw === 'choice' ? { ...d, n: d.n } : d));
  return [...t.rrc_python_random, ...flip, ...choices, ...ra];
}

describe('train transform (RRC → flip → RandAugment rand-m9-mstd0.5-inc1)', () => {
  const recs = goldenIndex().train_pipeline_scripted as any[];
  it.each(recs.map((r) => [r.image, r.ops_chosen.join('+'), r] as const))('%s (%s): the scripted timm chain, bit-exact', async (_n, _o, rec) => {
    const t = createTrainTransform({ randAugment: 'rand-m9-mstd0.5-inc1' });
    const draws = new TraceDraws(pipelineTrace(rec));
    const out = t.apply(await goldenSource(rec.image), draws);
    expect(draws.remaining).toBe(0);
    expect(sha256(out.data)).toBe(rec.after_randaug.sha256_rgb);
  });

  it('flips iff the draw is below 0.5 (torchvision RandomHorizontalFlip)', async () => {
    const h = goldenIndex().hflip;
    const img = await goldenEvalCrop('astronaut');
    expect(sha256(flipHorizontal(img).data)).toBe(h.output.sha256_rgb);
    expect(h.draw_trace.map((d: any) => d.returned < 0.5)).toEqual([true, false]);
  });

  it('is a pure function of (seed, epoch, slot)', async () => {
    const t = createTrainTransform({ randAugment: 'rand-m9-mstd0.5-inc1' });
    const src = await goldenSource('coffee');
    const a = t.apply(src, new CounterDraws(7, 3, 11));
    const b = t.apply(src, new CounterDraws(7, 3, 11));
    const c = t.apply(src, new CounterDraws(7, 3, 12));
    expect(sha256(a.data)).toBe(sha256(b.data));
    expect(sha256(a.data)).not.toBe(sha256(c.data));
  });
});
