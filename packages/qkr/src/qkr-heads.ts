// The QKR attention heads (spec §5.2 steps 2-6) on an already quantized input X̂: the v path, the
// merged and quantized W_qk, the qkx quantizer, softmax and its quantizer, P̂·v̂. The caller supplies X̂
// (its own input quantizer) and applies the output projection, so any tfjs transformer can use it.
import * as tf from '@tensorflow/tfjs-core';
import type { Tensor } from '@tensorflow/tfjs-core';
import type { WeightQuantizer } from '@ofq/core';
import { LearnableBias, LSQQuantizer } from '@ofq/lsq';
import { StatsQuantizer } from '@ofq/statsq';
import { mergedQKWeight, qkrLogits } from './merge.js';
import { maskGradient, type GradientMask } from './gradient-mask.js';

export interface QKRHeadsOptions {
  numHeads: number;
  /** Kernels `[C, C]` (tfjs `[in, out]`), copied into new variables. q and k have no bias. */
  weights: { q: Tensor; k: Tensor; v: Tensor; vBias?: Tensor | null };
  /** Quantizer of the merged W_qk `[C, H·C]` (rows on the last axis); default StatsQ at `weightBits`; null = FP. */
  qkQuantizer?: WeightQuantizer | null;
  /** Quantizer of the v kernel; default StatsQ at `weightBits`; null = FP. */
  vQuantizer?: WeightQuantizer | null;
  /** Bits of the default StatsQ quantizers (required unless both quantizers are given). */
  weightBits?: number;
  /** Bits of the qkx, v and softmax LSQ quantizers; null = no activation quantization. */
  actBits: number | null;
  /** Decision #5: pin B in the LSQ gradient scales. */
  gradScaleBatch?: number;
}

/** Activation quantizer with the reference's learnable shifts: `after + LSQ(x + before)`. */
export interface ShiftedLSQ {
  before: LearnableBias;
  quantizer: LSQQuantizer;
  after: LearnableBias;
}

function shiftedLsq(size: number, cfg: ConstructorParameters<typeof LSQQuantizer>[0]): ShiftedLSQ {
  return { before: new LearnableBias(size), quantizer: new LSQQuantizer(cfg), after: new LearnableBias(size) };
}

export function applyShiftedLSQ(q: ShiftedLSQ, x: Tensor): Tensor {
  return tf.tidy(() => q.after.apply(q.quantizer.apply(q.before.apply(x))));
}

function defaultStatsQ(bits: number | undefined, what: string): WeightQuantizer {
  if (bits === undefined) throw new Error(`QKRHeads: weightBits is required for the default ${what} quantizer`);
  return new StatsQuantizer({ bits });
}

export class QKRHeads {
  readonly numHeads: number;
  readonly dim: number;
  readonly q: tf.Variable;
  readonly k: tf.Variable;
  readonly v: tf.Variable;
  readonly vBias: tf.Variable;
  readonly qkQuantizer: WeightQuantizer | null;
  readonly vQuantizer: WeightQuantizer | null;
  /** qkx quantizer: signed, per (token, head) — N·H steps, index n·H + h — with H·C shifts before/after. */
  readonly qkx: ShiftedLSQ | null;
  /** v activations: signed, per channel (C steps), with C shifts. */
  readonly vAct: ShiftedLSQ | null;
  /** Attention probabilities: unsigned, per query token (N steps), no shifts. */
  readonly softmaxQuantizer: LSQQuantizer | null;
  private gradientMask: GradientMask | null = null;

  constructor(o: QKRHeadsOptions) {
    const { q, k, v } = o.weights;
    const c = q.shape[0];
    if (q.rank !== 2 || q.shape[1] !== c || k.shape.join(',') !== q.shape.join(',') || v.shape.join(',') !== q.shape.join(',')) {
      throw new Error(`QKRHeads: q, k, v kernels must all be [C, C], got [${q.shape}], [${k.shape}], [${v.shape}]`);
    }
    if (!Number.isInteger(o.numHeads) || o.numHeads < 1 || c % o.numHeads !== 0) {
      throw new Error(`QKRHeads: numHeads ${o.numHeads} must divide the embedding size ${c}`);
    }
    if (o.weights.vBias && (o.weights.vBias.rank !== 1 || o.weights.vBias.shape[0] !== c)) {
      throw new Error(`QKRHeads: vBias must be [${c}], got [${o.weights.vBias.shape}]`);
    }
    this.numHeads = o.numHeads;
    this.dim = c;
    this.q = tf.tidy(() => tf.variable(tf.clone(q)));
    this.k = tf.tidy(() => tf.variable(tf.clone(k)));
    this.v = tf.tidy(() => tf.variable(tf.clone(v)));
    this.vBias = tf.tidy(() => tf.variable(o.weights.vBias ? tf.clone(o.weights.vBias) : tf.zeros([c])));
    this.qkQuantizer = o.qkQuantizer === undefined ? defaultStatsQ(o.weightBits, 'W_qk') : o.qkQuantizer;
    this.vQuantizer = o.vQuantizer === undefined ? defaultStatsQ(o.weightBits, 'v') : o.vQuantizer;
    if (o.actBits === null) {
      this.qkx = this.vAct = this.softmaxQuantizer = null;
    } else {
      const bits = o.actBits;
      const gradScaleBatch = o.gradScaleBatch;
      this.qkx = shiftedLsq(o.numHeads * c, { bits, granularity: 'token', gradScaleBatch, name: 'quan_a_qkx_fn' });
      this.vAct = shiftedLsq(c, { bits, granularity: 'channel', gradScaleBatch, name: 'quan_a_v_fn' });
      this.softmaxQuantizer = new LSQQuantizer({ bits, granularity: 'token', unsigned: true, gradScaleBatch, name: 'quan_a_softmax_fn' });
    }
  }

  get headDim(): number {
    return this.dim / this.numHeads;
  }

  /** CGA includeQK hook: `mask(W_qk)` multiplies dL/dW_qk, with W_qk as `[C, H·C]` (rows last, as StatsQ sees it). */
  setGradientMask(mask: GradientMask | null): void {
    this.gradientMask = mask;
  }

  /** The merged weight the logits use: `[C, H·C]`, quantized when a quantizer is set. */
  quantizedQKWeight(): Tensor {
    return tf.tidy(() => {
      let w = mergedQKWeight(this.q, this.k, this.numHeads);
      if (this.gradientMask) w = maskGradient(w, this.gradientMask);
      return this.qkQuantizer ? this.qkQuantizer.quantize(w) : w;
    });
  }

  /** Scaled pre-softmax logits `[B, H, N, N]` from the quantized input `x̂` `[B, N, C]`. */
  logits(x: Tensor): Tensor {
    const qkx = this.qkx;
    const [b, n] = x.shape;
    const hc = this.numHeads * this.dim;
    return tf.tidy(() =>
      qkrLogits(x, this.quantizedQKWeight(), this.numHeads, {
        scale: this.headDim ** -0.5,
        // The qkx LSQ runs per (token, head): [B, N, H·C] → [B, N·H, C] rows n·H + h.
        qkxTransform: qkx
          ? (t) => {
              const shifted = qkx.before.apply(t);
              const q = qkx.quantizer.apply(tf.reshape(shifted, [b, n * this.numHeads, this.dim]));
              return qkx.after.apply(tf.reshape(q, [b, n, hc]));
            }
          : undefined,
      }),
    );
  }

  /** `X̂·Q(Wv) + bv`, then the v quantizer: `[B, N, C]`. */
  values(x: Tensor): Tensor {
    return tf.tidy(() => {
      const [b, n, c] = x.shape;
      const w = this.vQuantizer ? this.vQuantizer.quantize(this.v) : this.v;
      const v = tf.reshape(tf.add(tf.matMul(tf.reshape(x, [b * n, c]) as tf.Tensor2D, w as tf.Tensor2D), this.vBias), [b, n, c]);
      return this.vAct ? applyShiftedLSQ(this.vAct, v) : v;
    });
  }

  /** Attention output before the projection, heads merged: `[B, N, C]`. */
  apply(x: Tensor): Tensor {
    if (x.rank !== 3 || x.shape[2] !== this.dim) throw new Error(`QKRHeads: input must be [B, N, ${this.dim}], got [${x.shape}]`);
    return tf.tidy(() => {
      const [b, n, c] = x.shape;
      const h = this.numHeads;
      const d = this.headDim;
      let probs = tf.softmax(this.logits(x));
      if (this.softmaxQuantizer) probs = this.softmaxQuantizer.apply(probs);
      const v = tf.transpose(tf.reshape(this.values(x), [b, n, h, d]), [0, 2, 1, 3]);
      return tf.reshape(tf.transpose(tf.matMul(probs, v), [0, 2, 1, 3]), [b, n, c]);
    });
  }

  /** Every trainable variable (LSQ steps only once initialised). */
  variables(): tf.Variable[] {
    const out = [this.q, this.k, this.v, this.vBias];
    for (const s of [this.qkx, this.vAct]) if (s) out.push(s.before.variable, s.after.variable);
    for (const q of [this.qkx?.quantizer, this.vAct?.quantizer, this.softmaxQuantizer]) if (q?.step) out.push(q.step);
    for (const w of [this.qkQuantizer, this.vQuantizer]) {
      const step = (w as { step?: tf.Variable | null } | null)?.step;
      if (step) out.push(step);
    }
    return out;
  }

  dispose(): void {
    tf.dispose([this.q, this.k, this.v, this.vBias]);
    for (const s of [this.qkx, this.vAct]) if (s) { s.before.dispose(); s.quantizer.dispose(); s.after.dispose(); }
    this.softmaxQuantizer?.dispose();
    for (const w of [this.qkQuantizer, this.vQuantizer]) (w as { dispose?: () => void } | null)?.dispose?.();
  }
}
