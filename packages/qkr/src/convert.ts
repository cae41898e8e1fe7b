// Converting a standard attention's weights to QKR (spec §5.1, decision #3): q and k lose their
// biases (QKR has no place for them). `x·Wqᵀ·bk` is softmax-invariant, `bqᵀ·Wk·x_j` is not, so the
// converted attention differs slightly; given sample inputs, the drift is measured and returned.
import * as tf from '@tensorflow/tfjs-core';
import type { Tensor } from '@tensorflow/tfjs-core';
import { mergeHeads, splitHeads } from './heads.js';

export interface SeparateQKV {
  /** Kernels `[C, C]` in tfjs `[in, out]` layout. */
  q: Tensor;
  k: Tensor;
  v: Tensor;
  qBias?: Tensor | null;
  kBias?: Tensor | null;
  vBias?: Tensor | null;
}

/** How much dropping the q/k biases changes the full-precision attention on sample inputs. */
export interface QKRDrift {
  /** max |Δ logits| (scaled, pre-softmax). */
  maxAbsLogits: number;
  /** max |Δ attention probabilities|. */
  maxAbsProbs: number;
  /** max |Δ attention output| (heads merged, before the projection). */
  maxAbsOutput: number;
  /** ‖Δ output‖ / ‖output‖ (Frobenius). */
  relativeOutput: number;
}

export interface QKRConversion {
  /** New tensors (caller disposes): the q/k/v kernels and the kept v bias (zeros if there was none). */
  q: Tensor;
  k: Tensor;
  v: Tensor;
  vBias: Tensor;
  /** The discarded pretrained biases (null when there were none). Caller disposes. */
  droppedQBias: Tensor | null;
  droppedKBias: Tensor | null;
  /** Present when `sample` was given. */
  drift: QKRDrift | null;
}

/** Plain FP multi-head attention before the projection: logits, probabilities and merged output. */
export function attentionHeads(x: Tensor, w: SeparateQKV, numHeads: number): { logits: Tensor; probs: Tensor; output: Tensor } {
  const [logits, probs, output] = tf.tidy(() => {
    const [b, n, c] = x.shape;
    const d = c / numHeads;
    const proj = (k: Tensor, bias?: Tensor | null) => {
      let y = tf.matMul(tf.reshape(x, [b * n, c]) as tf.Tensor2D, k as tf.Tensor2D) as Tensor;
      if (bias) y = tf.add(y, bias);
      return splitHeads(tf.reshape(y, [b, n, c]), numHeads);
    };
    const q = proj(w.q, w.qBias);
    const k = proj(w.k, w.kBias);
    const v = proj(w.v, w.vBias);
    const logits = tf.mul(tf.matMul(q, k, false, true), d ** -0.5);
    const probs = tf.softmax(logits);
    const output = mergeHeads(tf.matMul(probs, v));
    return [logits, probs, output];
  });
  return { logits, probs, output };
}

function maxAbsDiff(a: Tensor, b: Tensor): number {
  const m = tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))));
  const v = m.dataSync()[0];
  m.dispose();
  return v;
}

/** FP drift of dropping the q/k biases, on `sample` `[B, N, C]`. */
export function measureQKRDrift(sample: Tensor, w: SeparateQKV, numHeads: number): QKRDrift {
  const withBias = attentionHeads(sample, w, numHeads);
  const without = attentionHeads(sample, { ...w, qBias: null, kBias: null }, numHeads);
  const rel = tf.tidy(() => tf.div(tf.norm(tf.sub(withBias.output, without.output)), tf.maximum(tf.norm(withBias.output), 1e-30)));
  const drift: QKRDrift = {
    maxAbsLogits: maxAbsDiff(withBias.logits, without.logits),
    maxAbsProbs: maxAbsDiff(withBias.probs, without.probs),
    maxAbsOutput: maxAbsDiff(withBias.output, without.output),
    relativeOutput: rel.dataSync()[0],
  };
  tf.dispose([rel, ...Object.values(withBias), ...Object.values(without)]);
  return drift;
}

function checkSeparate(w: SeparateQKV): number {
  const c = w.q.shape[0];
  for (const [name, k] of [['q', w.q], ['k', w.k], ['v', w.v]] as const) {
    if (k.rank !== 2 || k.shape[0] !== c || k.shape[1] !== c) throw new Error(`QKR conversion: ${name} kernel must be [${c}, ${c}], got [${k.shape}]`);
  }
  for (const [name, b] of [['qBias', w.qBias], ['kBias', w.kBias], ['vBias', w.vBias]] as const) {
    if (b && (b.rank !== 1 || b.shape[0] !== c)) throw new Error(`QKR conversion: ${name} must be [${c}], got [${b.shape}]`);
  }
  return c;
}

/** QKR weights from separate q/k/v kernels (copies; the inputs stay owned by the caller). */
export function qkrFromSeparate(w: SeparateQKV, { numHeads, sample }: { numHeads: number; sample?: Tensor }): QKRConversion {
  const c = checkSeparate(w);
  if (!Number.isInteger(numHeads) || numHeads < 1 || c % numHeads !== 0) throw new Error(`QKR conversion: numHeads ${numHeads} must divide ${c}`);
  return {
    q: tf.clone(w.q),
    k: tf.clone(w.k),
    v: tf.clone(w.v),
    vBias: w.vBias ? tf.clone(w.vBias) : tf.zeros([c]),
    droppedQBias: w.qBias ? tf.clone(w.qBias) : null,
    droppedKBias: w.kBias ? tf.clone(w.kBias) : null,
    drift: sample ? measureQKRDrift(sample, w, numHeads) : null,
  };
}

/**
 * QKR weights from a fused kernel `[C, 3C]` (columns q | k | v, timm's order, i.e. PyTorch rows
 * [0,C), [C,2C), [2C,3C) of `qkv.weight`) and its bias `[3C]`.
 */
export function qkrFromFusedQKV(
  kernel: Tensor,
  bias: Tensor | null,
  { numHeads, sample }: { numHeads: number; sample?: Tensor },
): QKRConversion {
  if (kernel.rank !== 2 || kernel.shape[1] !== 3 * kernel.shape[0]) throw new Error(`QKR conversion: fused qkv kernel must be [C, 3C], got [${kernel.shape}]`);
  const c = kernel.shape[0];
  if (bias && (bias.rank !== 1 || bias.shape[0] !== 3 * c)) throw new Error(`QKR conversion: fused qkv bias must be [${3 * c}], got [${bias.shape}]`);
  const [q, k, v] = tf.split(kernel, 3, 1);
  const [qBias, kBias, vBias] = bias ? tf.split(bias, 3, 0) : [null, null, null];
  try {
    return qkrFromSeparate({ q, k, v, qBias, kBias, vBias }, { numHeads, sample });
  } finally {
    tf.dispose([q, k, v, ...(bias ? [qBias!, kBias!, vBias!] : [])]);
  }
}
