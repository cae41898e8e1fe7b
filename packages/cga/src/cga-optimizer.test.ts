import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { TEST_BACKENDS, expectNoLeaks, useBackend } from '@ofq/core/testing';
import { StatsQuantizer, statsQuantize } from '@ofq/statsq';

const sq = (bits: number) => new StatsQuantizer({ bits });
import { createCGA, cgaForLayersModel, confidenceMask, toPredicate, type CGAOptimizer, type QKGradientMask } from './index.js';

const bitsOf = (t: tf.Tensor) => new Uint32Array(new Float32Array(t.dataSync()).buffer);

/** An optimizer that records the weights it was handed (pre-step) and what its own step produced. */
class SpyOptimizer extends tf.Optimizer {
  pre = new Map<string, Uint32Array>();
  afterInner = new Map<string, Uint32Array>();
  constructor(readonly inner: tf.Optimizer, readonly watch: tf.Variable[]) {
    super();
  }
  static get className() {
    return 'Spy';
  }
  override applyGradients(g: tf.NamedTensorMap | Array<{ name: string; tensor: tf.Tensor }>): void {
    for (const v of this.watch) this.pre.set(v.name, bitsOf(v));
    this.inner.applyGradients(g as tf.NamedTensorMap);
    for (const v of this.watch) this.afterInner.set(v.name, bitsOf(v));
  }
  getConfig() {
    return {};
  }
  override dispose() {
    this.inner.dispose();
  }
}

function seeded(seed: number) {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296) * 2 - 1;
}

for (const backend of TEST_BACKENDS) {
  describe(`CGA optimizer on ${backend}`, () => {
    beforeAll(() => useBackend(backend));

    it('freezes confident weights bit for bit, trains the rest, and reports the mask fraction (tiny StatsQ model, Adam)', () => {
      const rnd = seeded(11);
      const v = (shape: [number, number]) => tf.tidy(() => tf.variable(tf.tensor2d(Array.from({ length: shape[0] * shape[1] }, () => rnd() * 0.5), shape)));
      const fc1 = v([8, 32]);
      const fc2 = v([32, 4]);
      const head = v([4, 4]);
      const params = [
        { name: 'blocks.0.mlp.fc1.weight', variable: fc1 },
        { name: 'blocks.0.mlp.fc2.weight', variable: fc2 },
        { name: 'head.weight', variable: head },
      ];
      const x = tf.tidy(() => tf.tensor2d(Array.from({ length: 64 * 8 }, () => rnd()), [64, 8]));
      const y = tf.tidy(() => tf.oneHot(tf.tensor1d(Array.from({ length: 64 }, (_, i) => i % 4), 'int32'), 4).toFloat());
      const spy = new SpyOptimizer(tf.train.adam(0.01), [fc1, fc2]);
      const BR = 0.05; // wide band so that enough weights stay trainable in a tiny model
      const stepsSeen: number[] = [];
      const cga: CGAOptimizer = createCGA(spy, params, { quantizer: sq(2), boundaryRange: BR, onStep: (s) => stepsSeen.push(s.step) });
      expect(cga.selected.map((s) => s.name)).toEqual(['blocks.0.mlp.fc1.weight', 'blocks.0.mlp.fc2.weight']);
      const loss = () =>
        tf.losses.softmaxCrossEntropy(y, tf.matMul(tf.relu(tf.matMul(tf.relu(tf.matMul(x, statsQuantize(fc1, { bits: 2 }))), statsQuantize(fc2, { bits: 2 }))), head)) as tf.Scalar;

      let restoredMomentum = 0;
      for (let step = 0; step < 6; step++) {
        const masks = [fc1, fc2].map((w) => confidenceMask(w, { quantizer: sq(2), boundaryRange: BR }));
        const before = [fc1, fc2].map(bitsOf);
        const headBefore = bitsOf(head);
        const run = () => tf.dispose(cga.minimize(loss, true) ?? []);
        if (step === 0) run(); // Adam creates its moment variables on the first step
        else expectNoLeaks(run, `CGA step ${step}`);
        const stats = cga.lastStats!;
        [fc1, fc2].forEach((w, i) => {
          const m = masks[i].dataSync();
          const after = bitsOf(w);
          const inner = spy.afterInner.get(w.name)!;
          let frozen = 0;
          let moved = 0;
          for (let j = 0; j < m.length; j++) {
            if (!m[j]) {
              frozen++;
              expect(after[j], `step ${step} ${params[i].name}[${j}] frozen but changed`).toBe(before[i][j]);
              if (inner[j] !== before[i][j]) restoredMomentum++; // Adam moved it from past momentum; CGA undid it
            } else if (after[j] !== before[i][j]) moved++;
          }
          expect(frozen).toBeGreaterThan(0);
          expect(moved, `step ${step}: some trainable entries of ${params[i].name} move`).toBeGreaterThan(0);
          expect(stats.perParam[params[i].name]).toBeCloseTo(frozen / m.length, 12);
        });
        expect(Array.from(bitsOf(head))).not.toEqual(Array.from(headBefore)); // unselected: trains normally
        const total = fc1.size + fc2.size;
        expect(stats.frozenFraction).toBeCloseTo((stats.perParam['blocks.0.mlp.fc1.weight'] * fc1.size + stats.perParam['blocks.0.mlp.fc2.weight'] * fc2.size) / total, 12);
        expect(stats.total).toBe(total);
        tf.dispose(masks);
      }
      expect(restoredMomentum, 'the restore undid momentum updates of frozen entries').toBeGreaterThan(0);
      expect(stepsSeen).toEqual([1, 2, 3, 4, 5, 6]);
      expect(cga.frozenFraction).toBe(cga.lastStats!.frozenFraction);
      cga.dispose();
      spy.dispose();
      tf.dispose([fc1, fc2, head, x, y]);
    });

    it('is a model.fit drop-in for a tf.LayersModel', async () => {
      const model = tf.sequential({
        layers: [tf.layers.dense({ inputShape: [6], units: 16, activation: 'relu' }), tf.layers.dense({ units: 3 })],
      });
      const kernels = model.trainableWeights.filter((w) => w.name.endsWith('/kernel')).map((w) => w.read() as tf.Variable);
      const spy = new SpyOptimizer(tf.train.adam(0.02), kernels);
      let checked = 0;
      const cga = cgaForLayersModel(model, spy, {
        quantizer: sq(3),
        boundaryRange: 0.05,
        select: '*/kernel',
        onStep: () => {
          // After each batch: frozen entries of the pre-step weights are unchanged.
          for (const k of kernels) {
            const pre = spy.pre.get(k.name)!;
            const preT = tf.tensor(new Float32Array(pre.buffer), k.shape);
            const m = confidenceMask(preT, { quantizer: sq(3), boundaryRange: 0.05 }).dataSync();
            const now = bitsOf(k);
            for (let j = 0; j < m.length; j++) if (!m[j]) expect(now[j]).toBe(pre[j]);
            tf.dispose(preT);
            checked++;
          }
        },
      });
      expect(cga.selected).toHaveLength(2);
      model.compile({ optimizer: cga, loss: 'meanSquaredError' });
      const xs = tf.randomNormal([32, 6], 0, 1, 'float32', 3);
      const ys = tf.randomNormal([32, 3], 0, 1, 'float32', 4);
      const h = await model.fit(xs, ys, { epochs: 2, batchSize: 8, verbose: 0 });
      expect(h.history.loss).toHaveLength(2);
      expect(checked).toBe(2 * 4 * 2);
      expect(cga.lastStats!.frozenFraction).toBeGreaterThan(0.5);
      cga.dispose();
      spy.dispose();
      model.dispose();
      tf.dispose([xs, ys]);
    });

    it('includeQK installs a W_qk gradient mask hook and removes it on dispose', () => {
      const calls: Array<QKGradientMask | null> = [];
      const target = { setQKGradientMask: (fn: QKGradientMask | null) => { calls.push(fn); } };
      const w = tf.variable(tf.randomNormal([4, 5], 0, 1, 'float32', 1));
      const opt = tf.train.sgd(0.1);
      const cga = createCGA(opt, [{ name: 'blocks.0.attn.v.weight', variable: w }], { quantizer: sq(2), boundaryRange: 0.2, includeQK: true, qkTarget: target });
      expect(calls).toHaveLength(1);
      const wqk = tf.randomNormal([6, 6], 0, 1, 'float32', 2);
      const got = calls[0]!(wqk, sq(2));
      const want = confidenceMask(wqk, { quantizer: sq(2), boundaryRange: 0.2 });
      expect(got.dtype).toBe('float32');
      expect(Array.from(got.dataSync())).toEqual(Array.from(want.dataSync()));
      expect(() => createCGA(opt, [], { quantizer: sq(2), includeQK: true })).toThrow(/qkTarget/);
      cga.dispose();
      expect(calls[1]).toBeNull();
      tf.dispose([w, wqk, got, want]);
      opt.dispose();
    });

    it('selects by glob or predicate and explains an empty selection', () => {
      const w = tf.variable(tf.zeros([2, 2]));
      const opt = tf.train.sgd(0.1);
      expect(() => createCGA(opt, [{ name: 'blocks.0.attn.qkv.weight', variable: w }], { quantizer: sq(2) })).toThrow(/no parameter matched/);
      expect(createCGA(opt, [{ name: 'enc.layer1.w', variable: w }], { quantizer: sq(2), select: (n) => n.startsWith('enc.') }).selected).toHaveLength(1);
      expect(() => createCGA(opt, [{ name: 'blocks.0.mlp.fc1.weight', variable: w }], { quantizer: sq(1) })).toThrow(/bits/);
      expect(() => createCGA(opt, [{ name: 'blocks.0.mlp.fc1.weight', variable: w }], { quantizer: sq(2), boundaryRange: 0.7 })).toThrow(/boundaryRange/);
      tf.dispose(w);
      opt.dispose();
    });
  });
}

describe('CGA parameter selection', () => {
  it('default globs pick v, proj, fc1, fc2 of every block only', () => {
    const p = toPredicate(undefined);
    const names = [
      'blocks.0.attn.v.weight',
      'blocks.11.attn.proj.weight',
      'blocks.3.mlp.fc1.weight',
      'blocks.3.mlp.fc2.weight',
      'blocks.3.mlp.fc2.bias',
      'blocks.0.attn.q.weight',
      'blocks.0.attn.k.weight',
      'blocks.0.attn.qkv.weight',
      'head.weight',
      'patch_embed.proj.weight',
      'blocks.1.attn.v.weight.extra',
    ];
    expect(names.filter(p)).toEqual(names.slice(0, 4));
    expect(toPredicate('a/**')('a/b.c/d')).toBe(true);
    expect(toPredicate('a.*.c')('a.b.x.c')).toBe(false);
    expect(toPredicate('a?c')('abc')).toBe(true);
    expect(toPredicate('a?c')('a.c')).toBe(false);
  });
});
