// The reference's module-level vectors (golden/README.md "Module files: the protocol"): from the
// stored state_dict reproduce out, grad_x and every parameter gradient; from fp_state_dict the first
// forward's lazy LSQ initialisation.
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installAccel, uninstallAccel } from '@ofq/accel';
import { TEST_BACKENDS, assertClose, gt, loadGolden, tolFor, useBackend, type GoldenTensor } from '@ofq/core/testing';
import {
  Attention, Block, LayerNorm, Linear, Mlp, PatchEmbed,
  quantizeAttentionPlain, quantizeAttentionQKR, quantizeBlock, quantizeHead, quantizeLinear, quantizeMlp, quantizePatchEmbed,
  loadModuleState, type BlockQuantOptions, type Module, type ParamSpec,
} from '../index.js';

type Golden = Record<string, any>;
const T = (g: GoldenTensor) => gt(g);

function fpLinear(sd: Record<string, GoldenTensor>, p: string): Linear {
  const w = T(sd[`${p}weight`]);
  const k = tf.tidy(() => tf.variable(tf.transpose(w)));
  w.dispose();
  return new Linear(k, sd[`${p}bias`] ? tf.tidy(() => tf.variable(T(sd[`${p}bias`]))) : null);
}
function fpNorm(sd: Record<string, GoldenTensor>, p: string): LayerNorm {
  return new LayerNorm(sd[`${p}weight`].shape[0], 1e-6, tf.tidy(() => tf.variable(T(sd[`${p}weight`]))), tf.tidy(() => tf.variable(T(sd[`${p}bias`]))));
}
const fpAttention = (sd: Record<string, GoldenTensor>, p = '') => new Attention(fpLinear(sd, `${p}qkv.`), fpLinear(sd, `${p}proj.`), 3);
const fpMlp = (sd: Record<string, GoldenTensor>, p = '') => new Mlp(fpLinear(sd, `${p}fc1.`), fpLinear(sd, `${p}fc2.`));

interface Case {
  file: string;
  /** The quantized module and the FP module it was converted from (disposed by the test). */
  build(g: Golden, o: BlockQuantOptions): [Module, { dispose(): void }];
  /** Golden name → our name (the conv's entries live under `proj.`). */
  rename?: (n: string) => string;
  /** Golden x layout → ours, and our output / grad_x → golden layout. */
  inX?: (x: tf.Tensor) => tf.Tensor;
  outY?: (y: tf.Tensor) => tf.Tensor;
  outGradX?: (g: tf.Tensor) => tf.Tensor;
}

function conv<F extends { dispose(): void }>(fp: F, f: (fp: F) => Module): [Module, F] {
  return [f(fp), fp];
}

const nchwToNhwc = (x: tf.Tensor) => tf.transpose(x, [0, 2, 3, 1]);
const nhwcToNchw = (x: tf.Tensor) => tf.transpose(x, [0, 3, 1, 2]);

const CASES: Case[] = [];
for (const bits of [2, 4]) {
  const wa = `w${bits}a${bits}`;
  CASES.push(
    { file: `qlinear_${wa}.json`, build: (g, o) => conv(fpLinear(g.fp_state_dict, ''), (f) => quantizeLinear(f, o)) },
    { file: `qmlp_${wa}.json`, build: (g, o) => conv(fpMlp(g.fp_state_dict), (f) => quantizeMlp(f, o)) },
    { file: `qattention_${wa}.json`, build: (g, o) => conv(fpAttention(g.fp_state_dict), (f) => quantizeAttentionPlain(f, o)) },
    { file: `qattention_qkreparam_${wa}.json`, build: (g, o) => conv(fpAttention(g.fp_state_dict), (f) => quantizeAttentionQKR(f, o)) },
    {
      file: `qblock_qkr_${wa}.json`,
      build: (g, o) => {
        const sd = g.fp_state_dict;
        return conv(new Block(fpNorm(sd, 'norm1.'), fpAttention(sd, 'attn.'), fpNorm(sd, 'norm2.'), fpMlp(sd, 'mlp.')), (f) => quantizeBlock(f, { ...o, qkr: true }));
      },
    },
  );
}
CASES.push(
  { file: 'lsq_qlinear4head_w8a8.json', build: (g) => conv(fpLinear(g.fp_state_dict, ''), (f) => quantizeHead(f)) },
  {
    file: 'lsq_qconv2d_w8a8.json',
    build: (g) => {
      const w = T(g.fp_state_dict.weight);
      const fp = new PatchEmbed(tf.tidy(() => tf.variable(tf.transpose(w, [2, 3, 1, 0]))), tf.tidy(() => tf.variable(T(g.fp_state_dict.bias))));
      w.dispose();
      return conv(fp, (f) => quantizePatchEmbed(f, 32));
    },
    rename: (n) => `proj.${n}`,
    inX: nchwToNhwc,
    outY: (y) => tf.transpose(tf.reshape(y, [y.shape[0], 4, 4, y.shape[2] as number]), [0, 3, 1, 2]),
    outGradX: nhwcToNchw,
  },
);

function stateFrom(sd: Record<string, GoldenTensor>, rename: (n: string) => string, keep: (n: string) => boolean = () => true): Map<string, tf.Tensor> {
  const m = new Map<string, tf.Tensor>();
  for (const [k, v] of Object.entries(sd)) if (keep(k)) m.set(rename(k), T(v));
  return m;
}

function optionsFor(g: Golden): BlockQuantOptions {
  const bits = g.meta.bits as number;
  return { weightBits: bits, actBits: bits, method: 'ofq', qkr: g.meta.module.includes('qkreparam') || g.meta.module.includes('qk_reparam=True'), tokens: g.x.shape[1] };
}

// Also with @ofq/accel's kernels (ONNX Runtime matmuls, fused LSQ, copy-free wasm views): the
// whole quantized module, gradients included, must still match the reference.
for (const [backend, accel] of [...TEST_BACKENDS.map((b) => [b, false] as const), ...TEST_BACKENDS.map((b) => [b, true] as const)]) {
  describe(`quantized modules vs reference on ${backend}${accel ? ' with @ofq/accel' : ''}`, () => {
    beforeAll(async () => {
      await useBackend(backend);
      if (accel) installAccel({ engine: 'auto' });
    });
    afterAll(() => uninstallAccel());
    const tol = tolFor(backend, { rtol: 2e-4, atol: 2e-5 });

    for (const c of CASES) {
      const rename = c.rename ?? ((n: string) => n);
      it(`${c.file}: out, grad_x and every parameter gradient from state_dict`, () => {
        const g: Golden = loadGolden(c.file);
        const before = tf.memory().numTensors;
        const [m, fp] = c.build(g, optionsFor(g));
        fp.dispose();
        const sd = stateFrom(g.state_dict, rename);
        loadModuleState(m, sd);
        tf.dispose([...sd.values()]);
        const xIn = tf.tidy(() => (c.inX ? c.inX(T(g.x)) : T(g.x)));
        const xVar = tf.variable(xIn); // shares xIn's data; both disposed below
        const G = T(g.G);
        const specs: ParamSpec[] = m.params();
        const byName = new Map(specs.map((s) => [s.name, s]));
        const vars = specs.map((s) => s.variable()).filter((v): v is tf.Variable => v !== null);
        const { value, grads } = tf.variableGrads(() => {
          const y = m.apply(xVar);
          const yRef = c.outY ? c.outY(y) : y;
          return tf.sum(tf.mul(yRef, G)) as tf.Scalar;
        }, [xVar, ...vars]);
        const out = tf.tidy(() => (c.outY ? c.outY(m.apply(xVar)) : m.apply(xVar)));
        assertClose(out, g.out, tol, `${c.file} out`);
        const gx = tf.tidy(() => (c.outGradX ? c.outGradX(grads[xVar.name]) : grads[xVar.name].clone()));
        assertClose(gx, g.grad_x, tol, `${c.file} grad_x`);
        const checked: string[] = [];
        for (const [name, expected] of Object.entries(g.grads as Record<string, GoldenTensor>)) {
          const spec = byName.get(rename(name));
          expect(spec, `no parameter ${name}`).toBeDefined();
          const v = spec!.variable();
          expect(v, `${name} has no variable`).not.toBeNull();
          const got = tf.tidy(() => spec!.toTorch(grads[v!.name]));
          // Step gradients sum over many elements: a looser absolute floor.
          assertClose(got, expected, name.endsWith('.s') ? { rtol: tol.rtol! * 5, atol: tol.atol! * 20 } : tol, `${c.file} grad ${name}`);
          got.dispose();
          checked.push(name);
        }
        expect(checked.length).toBe(Object.keys(g.grads).length);
        tf.dispose([value, ...Object.values(grads), out, gx, xIn, xVar, G]);
        m.dispose();
        expect(tf.memory().numTensors).toBe(before);
      });

      it(`${c.file}: first forward initialises the LSQ steps like the reference`, () => {
        const g: Golden = loadGolden(c.file);
        const before = tf.memory().numTensors;
        const [m, fp] = c.build(g, optionsFor(g));
        fp.dispose();
        // Weights the reference draws at random (docs/decisions.md #1) come from its stored state; steps and the
        // sign buffer are left for the first forward to create.
        const sd = stateFrom(g.state_dict_after_first_forward, rename, (n) => !n.endsWith('.s') && !n.endsWith('.signed'));
        loadModuleState(m, sd, { strict: false });
        tf.dispose([...sd.values()]);
        const x = tf.tidy(() => (c.inX ? c.inX(T(g.x)) : T(g.x)));
        const out = tf.tidy(() => (c.outY ? c.outY(m.apply(x)) : m.apply(x)));
        assertClose(out, g.out_first_forward, tol, `${c.file} out_first_forward`);
        const byName = new Map(m.params().map((s) => [s.name, s]));
        for (const [name, expected] of Object.entries(g.state_dict_after_first_forward as Record<string, GoldenTensor>)) {
          if (!name.endsWith('.s') && !name.endsWith('.signed')) continue;
          const t = byName.get(rename(name))!.read();
          assertClose(t, expected, tol, `${c.file} ${name}`);
          t.dispose();
        }
        tf.dispose([x, out]);
        m.dispose();
        expect(tf.memory().numTensors).toBe(before);
      });
    }
  });
}
