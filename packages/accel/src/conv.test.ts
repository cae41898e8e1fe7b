import * as tf from '@tensorflow/tfjs';
import { TEST_BACKENDS, assertClose, expectNoLeaks, useBackend } from '@ofq/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installAccel, uninstallAccel } from './index.js';
import { seeded } from './test-support.js';

const TOL = { rtol: 1e-4, atol: 1e-5 };

type Pad = 'same' | 'valid' | [[number, number], [number, number], [number, number], [number, number]];

interface ConvCase {
  label: string;
  x: number[];
  w: number[];
  strides: number;
  pad: Pad;
  dilations: number;
}

const EXPLICIT: Pad = [[0, 0], [1, 2], [2, 0], [0, 0]];

/** Every kernel size × stride × padding × dilation, cycling channels 1/3/8 and batch 1/3 across them. */
function convCases(): ConvCase[] {
  const out: ConvCase[] = [];
  const chans = [1, 3, 8];
  let i = 0;
  for (const k of [1, 3, 5]) {
    for (const strides of [1, 2]) {
      for (const pad of ['same', 'valid', EXPLICIT] as Pad[]) {
        for (const dilations of [1, 2]) {
          if (strides > 1 && dilations > 1) continue; // tfjs: not both > 1
          const inC = chans[i % 3];
          const outC = chans[(i + 1) % 3];
          const batch = i % 2 ? 3 : 1;
          const h = 9 + (i % 3); // ≥ the dilated 5×5 field: stock wasm Conv2D corrupts its heap on negative output sizes
          out.push({ label: `x[${batch},${h},${h + 1},${inC}] k${k} out${outC} s${strides} d${dilations} pad ${JSON.stringify(pad)}`,
            x: [batch, h, h + 1, inC], w: [k, k, inC, outC], strides, pad, dilations });
          i++;
        }
      }
    }
  }
  // Past the chunk size (4 Mi floats of patches): the batch runs in two chunks.
  out.push({ label: 'chunked x[5,48,48,16] k5 out1', x: [5, 48, 48, 16], w: [5, 5, 16, 1], strides: 1, pad: 'same', dilations: 1 });
  return out;
}

function values(shape: number[], rnd: () => number): Float32Array {
  return Float32Array.from({ length: shape.reduce((p, d) => p * d, 1) }, rnd);
}

interface Result {
  y: Float32Array;
  dx?: Float32Array;
  dw?: Float32Array;
}

/** y = conv2d(x, w) and, without dilation, d(Σ y·r)/dx, d/dw through tf.grads. */
function runConv(c: ConvCase, xv: Float32Array, wv: Float32Array, rv: Float32Array | undefined): Result {
  return tf.tidy(() => {
    const x = tf.tensor4d(xv, c.x as [number, number, number, number]);
    const w = tf.tensor4d(wv, c.w as [number, number, number, number]);
    const f = (a: tf.Tensor4D, b: tf.Tensor4D) => tf.conv2d(a, b, c.strides, c.pad, 'NHWC', c.dilations);
    const y = f(x, w);
    if (!rv) return { y: y.dataSync() as Float32Array };
    const r = tf.tensor(rv, y.shape);
    const [dx, dw] = tf.grads((a: tf.Tensor, b: tf.Tensor) => f(a as tf.Tensor4D, b as tf.Tensor4D).mul(r).sum())([x, w]);
    return { y: y.dataSync() as Float32Array, dx: dx.dataSync() as Float32Array, dw: dw.dataSync() as Float32Array };
  });
}

/**
 * dW sums batch·outH·outW products: float32 summation error grows with that count (n·eps of the
 * terms' magnitude, here ≤ 1), and summation order differs from the cpu backend's loop.
 */
function dwTol(c: ConvCase, r: Result): { rtol: number; atol: number } {
  const terms = r.y.length / c.w[3];
  return { rtol: TOL.rtol, atol: Math.max(TOL.atol, 1e-7 * terms) };
}

interface DepthCase {
  label: string;
  x: number[];
  w: number[];
  strides: number;
  pad: 'same' | 'valid';
}

function depthCases(): DepthCase[] {
  const out: DepthCase[] = [];
  let i = 0;
  for (const k of [1, 3, 5]) for (const strides of [1, 2]) for (const pad of ['same', 'valid'] as const) {
    const c = [1, 3, 8][i % 3];
    const mult = 1 + (i % 2);
    const batch = i % 2 ? 1 : 3;
    out.push({ label: `x[${batch},9,8,${c}] k${k} ×${mult} s${strides} ${pad}`, x: [batch, 9, 8, c], w: [k, k, c, mult], strides, pad });
    i++;
  }
  return out;
}

/** depthwise y, its grads, and a separable conv's grads (depthwise + pointwise 1×1 conv). */
function runDepthwise(c: DepthCase, xv: Float32Array, wv: Float32Array, pv: Float32Array): Float32Array[] {
  return tf.tidy(() => {
    const x = tf.tensor4d(xv, c.x as [number, number, number, number]);
    const w = tf.tensor4d(wv, c.w as [number, number, number, number]);
    const p = tf.tensor4d(pv, [1, 1, c.w[2] * c.w[3], 4]);
    const dw = (a: tf.Tensor, b: tf.Tensor) => tf.depthwiseConv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.strides, c.pad);
    const y = dw(x, w);
    const g1 = tf.grads((a: tf.Tensor, b: tf.Tensor) => dw(a, b).square().sum())([x, w]);
    const sep = (a: tf.Tensor, b: tf.Tensor, q: tf.Tensor) =>
      tf.separableConv2d(a as tf.Tensor4D, b as tf.Tensor4D, q as tf.Tensor4D, c.strides, c.pad).square().sum();
    const g2 = tf.grads(sep)([x, w, p]);
    return [y, ...g1, ...g2].map((t) => t.dataSync() as Float32Array);
  });
}

describe('convolution kernels', () => {
  const cases = convCases();
  const dcases = depthCases();
  const rnd = seeded(3);
  const inputs = cases.map((c) => ({ x: values(c.x, rnd), w: values(c.w, rnd) }));
  const dinputs = dcases.map((c) => ({ x: values(c.x, rnd), w: values(c.w, rnd), p: values([1, 1, c.w[2] * c.w[3], 4], rnd) }));
  let expected: Result[] = [];
  let grads: Float32Array[] = [];
  let dexpected: Float32Array[][] = [];

  beforeAll(async () => {
    // The reference: the stock cpu backend's own kernels.
    await useBackend('cpu');
    uninstallAccel();
    expected = cases.map((c, i) => {
      const y = runConv(c, inputs[i].x, inputs[i].w, undefined);
      grads.push(values([y.y.length], rnd));
      return c.dilations > 1 ? y : runConv(c, inputs[i].x, inputs[i].w, grads[i]);
    });
    dexpected = dcases.map((c, i) => runDepthwise(c, dinputs[i].x, dinputs[i].w, dinputs[i].p));
  }, 120_000);
  afterAll(() => uninstallAccel());

  for (const backend of TEST_BACKENDS) {
    it(`Conv2D, Conv2DBackpropInput, Conv2DBackpropFilter through tf.grads equal stock cpu (accel on ${backend})`, async () => {
      await useBackend(backend);
      const report = installAccel({ engine: 'onnxruntime' });
      expect(report.kernels).toEqual(expect.arrayContaining(['Conv2DBackpropInput', 'Conv2DBackpropFilter']));
      // wasm keeps its XNNPACK Conv2D (faster than im2col + GEMM there); cpu gets ours.
      expect(report.kernels.includes('Conv2D')).toBe(backend !== 'wasm');
      cases.forEach((c, i) => {
        const got = expectNoLeaks(() => runConv(c, inputs[i].x, inputs[i].w, c.dilations > 1 ? undefined : grads[i]), c.label);
        assertClose(got.y, expected[i].y, TOL, `${c.label}: y`);
        if (c.dilations === 1) {
          assertClose(got.dx!, expected[i].dx!, TOL, `${c.label}: dx`);
          assertClose(got.dw!, expected[i].dw!, dwTol(c, expected[i]), `${c.label}: dw`);
        }
      });
      uninstallAccel();
    });

    it(`depthwise and separable convolutions and their gradients equal stock cpu (accel on ${backend})`, async () => {
      await useBackend(backend);
      installAccel({ engine: 'onnxruntime' });
      dcases.forEach((c, i) => {
        const got = expectNoLeaks(() => runDepthwise(c, dinputs[i].x, dinputs[i].w, dinputs[i].p), c.label);
        const names = ['y', 'dx', 'dw', 'sep dx', 'sep dw', 'sep dp'];
        got.forEach((g, j) => assertClose(g, dexpected[i][j], TOL, `${c.label}: ${names[j]}`));
      });
      uninstallAccel();
    });
  }

  it("the 'wasm' engine adds only the kernels stock wasm lacks (plain-JS GEMM), with the same values", async () => {
    await useBackend('wasm');
    uninstallAccel();
    const stockConv = tf.getKernel('Conv2D', 'wasm');
    expect(tf.getKernel('Conv2DBackpropFilter', 'wasm')).toBeUndefined();
    expect(() => runConv(cases[0], inputs[0].x, inputs[0].w, grads[0])).toThrow(/Conv2DBackpropFilter/);
    const report = installAccel({ engine: 'wasm' });
    expect(report.kernels).toEqual(expect.arrayContaining(['Conv2DBackpropFilter', 'DepthwiseConv2dNativeBackpropFilter', 'DepthwiseConv2dNativeBackpropInput']));
    expect(report.kernels).not.toContain('Conv2D');
    expect(tf.getKernel('Conv2D', 'wasm')).toBe(stockConv);
    const picks = cases.map((c, i) => i).filter((i) => cases[i].dilations === 1 && cases[i].x[0] > 0).slice(0, 6);
    for (const i of picks) {
      const got = runConv(cases[i], inputs[i].x, inputs[i].w, grads[i]);
      assertClose(got.dw!, expected[i].dw!, dwTol(cases[i], expected[i]), `${cases[i].label}: dw`);
    }
    uninstallAccel();
    expect(tf.getKernel('Conv2DBackpropFilter', 'wasm')).toBeUndefined();
    expect(tf.getKernel('Conv2D', 'wasm')).toBe(stockConv);
  });

  it('no tensor, byte or wasm-heap growth over repeated gradient steps', async () => {
    await useBackend('wasm');
    installAccel({ engine: 'onnxruntime' });
    const c = cases[7];
    runConv(c, inputs[7].x, inputs[7].w, grads[7]);
    const before = tf.memory();
    const heap = (tf.backend() as unknown as { wasm: { HEAPU8: Uint8Array } }).wasm.HEAPU8.byteLength;
    for (let r = 0; r < 200; r++) runConv(c, inputs[7].x, inputs[7].w, grads[7]);
    expect(tf.memory().numTensors).toBe(before.numTensors);
    expect(tf.memory().numBytes).toBe(before.numBytes);
    expect((tf.backend() as unknown as { wasm: { HEAPU8: Uint8Array } }).wasm.HEAPU8.byteLength).toBe(heap);
    uninstallAccel();
  });
});
