import * as tf from '@tensorflow/tfjs-core';
import type { Tensor } from '@tensorflow/tfjs-core';
import type { QuantizedWeights, QuantizerState, WeightQuantizer } from '@ofq/core';
import { lsqQuantize, type LSQStepConstraint } from './lsq-quantize.js';
import { LSQ_MIN_STEP, lsqGradScale, lsqRange, sharedAxes, type LSQGranularity } from './lsq-range.js';
import { createOrAssignStep, toStepTensor } from './step-variable.js';

export interface LSQWeightConfig {
  bits: number;
  /** Default true: one step per index of the last axis (output channel in tfjs layouts); false: one step. */
  perChannel?: boolean;
  name?: string;
  /**
   * How the learnable step stays positive. Default 'abs': the step used is `max(|s|, 1e-5)`, so no
   * channel collapses when training pushes a step through zero (with 'clamp' 0.5–8% of the W4A4 LSQ
   * baseline's per-channel steps went negative and zeroed their channels). 'clamp' is the reference's
   * `max(s, 1e-5)`; both agree bit for bit while every step is ≥ 1e-5 (docs/decisions.md #19).
   */
  stepConstraint?: LSQStepConstraint;
}

/**
 * LSQ weight quantizer with a learnable step (the LSQ baseline with docs/decisions.md #4's fix, and the 8-bit
 * head / patch-conv weights). Signed range, init `2·mean|w|/sqrt(Qp)` per output channel,
 * `g = 1/sqrt(Qp·count)` with count = weights per channel.
 */
export class LSQWeightQuantizer implements WeightQuantizer {
  readonly kind = 'lsq';
  readonly name: string;
  readonly bits: number;
  readonly perChannel: boolean;
  readonly stepConstraint: LSQStepConstraint;
  readonly codeRange: readonly [number, number];
  readonly offset = 0;
  readonly divisor = 1;
  /** The learnable step `s` (per output channel, or one), created lazily from the first weight seen. */
  readonly state: readonly QuantizerState[];
  private stepVar: tf.Variable | null = null;

  constructor(cfg: LSQWeightConfig) {
    if (cfg == null || typeof cfg !== 'object') throw new TypeError('LSQWeightQuantizer: a config { bits } is required');
    const { qn, qp } = lsqRange(cfg.bits);
    this.bits = cfg.bits;
    this.codeRange = [qn, qp];
    this.perChannel = cfg.perChannel ?? true;
    this.stepConstraint = cfg.stepConstraint ?? 'abs';
    if (this.stepConstraint !== 'abs' && this.stepConstraint !== 'clamp') {
      throw new RangeError(`LSQWeightQuantizer: stepConstraint must be 'abs' or 'clamp', got ${JSON.stringify(cfg.stepConstraint)}`);
    }
    this.name = cfg.name ?? `lsq-w${cfg.bits}`;
    this.state = [{ name: 's', trainable: true, variable: () => this.stepVar, write: (t) => this.setStep(t) }];
  }

  private get granularity(): LSQGranularity {
    return this.perChannel ? 'channel' : 'tensor';
  }

  get step(): tf.Variable | null {
    return this.stepVar;
  }

  get initialized(): boolean {
    return this.stepVar !== null;
  }

  /** `s0 = 2·mean|w|/sqrt(Qp)` over every axis but the last (or over all when not per channel). */
  initFrom(w: Tensor): void {
    const { qp } = lsqRange(this.bits);
    const axes = sharedAxes(this.granularity, w.rank, `${this.name}.initFrom`);
    const init = tf.tidy(() => {
      const meanAbs = axes.length ? tf.mean(tf.abs(w), axes) : tf.abs(w);
      const s0 = tf.div(tf.mul(meanAbs, 2), Math.sqrt(qp));
      return this.perChannel ? s0 : tf.reshape(s0, [1]);
    });
    this.stepVar = createOrAssignStep(this.stepVar, init, true);
    init.dispose();
  }

  setStep(values: Tensor | ArrayLike<number>, shape?: number[]): void {
    const t = toStepTensor(values, shape, !this.perChannel);
    if (this.perChannel && t.rank !== 1) {
      const s = t.shape;
      t.dispose();
      throw new RangeError(`${this.name}.setStep: per-channel steps are 1-D, got shape [${s}]`);
    }
    this.stepVar = createOrAssignStep(this.stepVar, t, true);
    t.dispose();
  }

  /** Fake-quantized weight; initialises the step from `w` on first use. */
  quantize(w: Tensor): Tensor {
    if (this.stepVar === null) this.initFrom(w);
    const { qp } = lsqRange(this.bits);
    return lsqQuantize(w, this.stepVar as tf.Variable, {
      bits: this.bits,
      granularity: this.granularity,
      gradScale: lsqGradScale(qp, this.granularity, w.shape),
      stepConstraint: this.stepConstraint,
    });
  }

  /** The step the forward pass uses, `max(|s|, 1e-5)` ('abs') or `max(s, 1e-5)` ('clamp'), one per output channel (tiled when per tensor). */
  scale(w: Tensor): Tensor {
    if (this.stepVar === null) this.initFrom(w);
    const step = this.stepVar as tf.Variable;
    const channels = w.shape[w.rank - 1];
    return tf.tidy(() => {
      const s = tf.maximum(this.stepConstraint === 'abs' ? tf.abs(step) : step, LSQ_MIN_STEP);
      return this.perChannel ? s : tf.tile(tf.reshape(s, [1]), [channels]);
    });
  }

  /** `w / s'`: the code is `round(clip(v, Qn, Qp))`, thresholds at half integers. */
  preRound(w: Tensor): Tensor {
    return tf.tidy(() => tf.div(w, this.scale(w)));
  }

  /** Integer codes `round(clamp(w/s', Qn, Qp))` with `value = s'[c]·code` (offset 0, divisor 1). */
  codes(w: Tensor): QuantizedWeights {
    const [qn, qp] = this.codeRange;
    const [codesT, scalesT] = tf.tidy(() => {
      const s = this.scale(w);
      return [tf.cast(tf.round(tf.clipByValue(tf.div(w, s), qn, qp)), 'int32'), s];
    });
    const out: QuantizedWeights = {
      kind: this.kind,
      codes: new Int32Array(codesT.dataSync()),
      scales: new Float32Array(scalesT.dataSync()),
      offset: 0,
      divisor: 1,
      bits: this.bits,
      codeRange: [qn, qp],
      shape: w.shape.slice(),
      channelAxis: -1,
    };
    tf.dispose([codesT, scalesT]);
    return out;
  }

  dispose(): void {
    this.stepVar?.dispose();
    this.stepVar = null;
  }
}
