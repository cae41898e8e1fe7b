import * as tf from '@tensorflow/tfjs-core';
import * as cgaPkg from '@ofq/cga';
import type { NamedParam } from '../optim/adamw.js';
import type { MetricsSink } from './metrics-sink.js';

/** CGA's default selection (spec §6.2): v, proj, fc1 and fc2 weights of every block. */
export const CGA_DEFAULT_PATTERN = /^blocks\.\d+\.(attn\.v|attn\.proj|mlp\.fc1|mlp\.fc2)\.weight$/;

export interface CgaStepper {
  stepper: { applyGradients(g: tf.NamedTensorMap): void };
  /** Latest frozen fraction over the selected weights (NaN before the first step). */
  frozenFraction(): number;
  onStep?(metrics: MetricsSink, step: number): void;
  dispose(): void;
}

interface QKMaskable {
  setQKGradientMask(mask: ((wqk: tf.Tensor) => tf.Tensor) | null): void;
}

/**
 * Wraps the stage-2 optimizer with confidence-guided annealing. Uses @ofq/cga's `createCGA` when the
 * package provides it; otherwise applies spec §6.2 here with @ofq/cga's `confidenceMask`: every step,
 * from the pre-step weights, zero the gradients of confident (frozen) entries, step, then restore the
 * frozen entries exactly (undoing AdamW's decay and momentum on them).
 */
export function makeCgaStepper(
  optimizer: tf.Optimizer,
  model: QKMaskable,
  params: NamedParam[],
  o: { bits: number; boundaryRange: number; includeQK: boolean },
): CgaStepper {
  const selected = params.filter((p) => CGA_DEFAULT_PATTERN.test(p.name));
  if (selected.length === 0) throw new Error('CGA: no block v/proj/fc1/fc2 weights found among the parameters');
  const mask = (w: tf.Tensor) => cgaPkg.confidenceMask(w, { bits: o.bits, boundaryRange: o.boundaryRange });
  if (o.includeQK) model.setQKGradientMask((wqk) => tf.tidy(() => tf.cast(mask(wqk), 'float32')));
  const restoreQK = () => {
    if (o.includeQK) model.setQKGradientMask(null);
  };

  const create = (cgaPkg as Record<string, unknown>).createCGA as
    | ((opt: tf.Optimizer, p: Array<{ name: string; variable: tf.Variable }>, opts: Record<string, unknown>) => {
        applyGradients(g: tf.NamedTensorMap): void;
        frozenFraction?: number | (() => number);
        lastStats?: { frozenFraction?: number };
        dispose?(): void;
      })
    | undefined;
  if (typeof create === 'function') {
    const wrapped = create(
      optimizer,
      selected.map((p) => ({ name: p.name, variable: p.variable })),
      { bits: o.bits, boundaryRange: o.boundaryRange },
    );
    const frac = () => {
      const f = wrapped.frozenFraction ?? wrapped.lastStats?.frozenFraction;
      return typeof f === 'function' ? f() : typeof f === 'number' ? f : NaN;
    };
    return {
      stepper: wrapped,
      frozenFraction: frac,
      dispose: () => {
        wrapped.dispose?.();
        restoreQK();
      },
    };
  }

  let frozen = NaN;
  return {
    stepper: {
      applyGradients(grads: tf.NamedTensorMap): void {
        const masks = new Map<string, tf.Tensor>();
        const saved = new Map<string, tf.Tensor>();
        const masked: tf.NamedTensorMap = { ...grads };
        let frozenCount = tf.scalar(0);
        let total = 0;
        for (const p of selected) {
          const g = grads[p.variable.name];
          if (!g) continue;
          const m = mask(p.variable); // true = trainable (within the band)
          masks.set(p.name, m);
          saved.set(p.name, p.variable.clone());
          masked[p.variable.name] = tf.tidy(() => tf.where(m, g, tf.zerosLike(g)));
          const prev = frozenCount;
          frozenCount = tf.tidy(() => tf.add(prev, tf.sum(tf.cast(tf.logicalNot(m), 'int32'))));
          prev.dispose();
          total += p.variable.size;
        }
        optimizer.applyGradients(masked);
        for (const p of selected) {
          const m = masks.get(p.name);
          if (!m) continue;
          const old = saved.get(p.name)!;
          p.variable.assign(tf.tidy(() => tf.where(m, p.variable, old)));
          tf.dispose([m, old, masked[p.variable.name]!]);
        }
        frozen = frozenCount.dataSync()[0]! / Math.max(1, total);
        frozenCount.dispose();
      },
    },
    frozenFraction: () => frozen,
    dispose: restoreQK,
  };
}
