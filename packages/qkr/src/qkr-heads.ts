// The QKR attention heads (spec §5.2 steps 2-6) on an already quantized input X̂: the v path, the
// merged and quantized W_qk, the qkx quantizer, softmax and its quantizer, P̂·v̂. The caller supplies X̂
// (its own input quantizer) and applies the output projection, so any tfjs transformer can use it.
import * as tf from '@tensorflow/tfjs-core';
import type { Tensor } from '@tensorflow/tfjs-core';
import { quantizerVariables, type WeightQuantizer } from '@ofq/core';
import { LSQQuantizer, ShiftedLSQ } from '@ofq/lsq';
import { StatsQuantizer } from '@ofq/statsq';
import { mergedQKWeight, qkrLogits } from './merge.js';
import { maskGradient } from './gradient-mask.js';
import { mergeHeads, splitHeads } from './heads.js';

/** CGA's includeQK hook: gets W_qk `[C, H·C]` and its quantizer, returns the 0/1 gradient mask. */
export type QKGradientMask = (wqk: Tensor, quantizer: WeightQuantizer) => Tensor;

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
  private gradientMask: QKGradientMask | null = null;

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
      this.qkx = new ShiftedLSQ(o.numHeads * c, { bits, granularity: 'token', gradScaleBatch, name: 'quan_a_qkx_fn' });
      this.vAct = new ShiftedLSQ(c, { bits, granularity: 'channel', gradScaleBatch, name: 'quan_a_v_fn' });
      this.softmaxQuantizer = new LSQQuantizer({ bits, granularity: 'token', unsigned: true, gradScaleBatch, name: 'quan_a_softmax_fn' });
    }
  }

  get headDim(): number {
    return this.dim / this.numHeads;
  }

  /** CGA includeQK hook: `mask(W_qk, quantizer)` multiplies dL/dW_qk, with W_qk as `[C, H·C]` (rows last, as its quantizer sees it). */
  setGradientMask(mask: QKGradientMask | null): void {
    if (mask && !this.qkQuantizer) throw new Error('QKRHeads: a W_qk gradient mask needs a quantized W_qk (qkQuantizer is null)');
    this.gradientMask = mask;
  }

  /** The merged float weight `[C, H·C]` (the latent weight W_qk's quantizer sees). */
  mergedQKWeight(): Tensor {
    return mergedQKWeight(this.q, this.k, this.numHeads);
  }

  /** The merged weight the logits use: `[C, H·C]`, quantized when a quantizer is set. */
  quantizedQKWeight(): Tensor {
    return tf.tidy(() => {
      let w = this.mergedQKWeight();
      const mask = this.gradientMask;
      const quantizer = this.qkQuantizer;
      if (mask && quantizer) w = maskGradient(w, (a) => mask(a, quantizer));
      return quantizer ? quantizer.quantize(w) : w;
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
      return this.vAct ? this.vAct.apply(v) : v;
    });
  }

  /** Attention output before the projection, heads merged: `[B, N, C]`. */
  apply(x: Tensor): Tensor {
    if (x.rank !== 3 || x.shape[2] !== this.dim) throw new Error(`QKRHeads: input must be [B, N, ${this.dim}], got [${x.shape}]`);
    return tf.tidy(() => {
      let probs = tf.softmax(this.logits(x));
      if (this.softmaxQuantizer) probs = this.softmaxQuantizer.apply(probs);
      return mergeHeads(tf.matMul(probs, splitHeads(this.values(x), this.numHeads)));
    });
  }

  /** Every trainable variable (LSQ steps only once initialised). */
  variables(): tf.Variable[] {
    const out = [this.q, this.k, this.v, this.vBias];
    for (const s of [this.qkx, this.vAct]) if (s) out.push(...s.variables());
    if (this.softmaxQuantizer?.step) out.push(this.softmaxQuantizer.step);
    for (const w of [this.qkQuantizer, this.vQuantizer]) if (w) out.push(...quantizerVariables(w));
    return out;
  }

  dispose(): void {
    tf.dispose([this.q, this.k, this.v, this.vBias]);
    this.qkx?.dispose();
    this.vAct?.dispose();
    this.softmaxQuantizer?.dispose();
    this.qkQuantizer?.dispose();
    this.vQuantizer?.dispose();
  }
}
