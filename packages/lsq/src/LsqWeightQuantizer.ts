import * as tf from '@tensorflow/tfjs-core';
import type { Tensor } from '@tensorflow/tfjs-core';
import type { QuantizedWeights, WeightQuantizer } from '@ofq/core';
import { lsqQuantize } from './lsqQuantize.js';
import { LSQ_MIN_STEP, lsqGradScale, lsqRange, sharedAxes, type LsqGranularity } from './lsqRange.js';
import { createOrAssignStep, toStepTensor } from './stepVariable.js';

export interface LsqWeightConfig {
  bits: number;
  /** Default true: one step per index of the last axis (output channel in tfjs layouts); false: one step. */
  perChannel?: boolean;
  name?: string;
}

/**
 * LSQ weight quantizer with a learnable step (the LSQ baseline with decision #4's fix, and the 8-bit
 * head / patch-conv weights). Signed range, init `2·mean|w|/sqrt(Qp)` per output channel,
 * `g = 1/sqrt(Qp·count)` with count = weights per channel.
 */
export class LsqWeightQuantizer implements WeightQuantizer {
  readonly name: string;
  readonly bits: number;
  readonly perChannel: boolean;
  private stepVar: tf.Variable | null = null;

  constructor(cfg: LsqWeightConfig) {
    if (cfg == null || typeof cfg !== 'object') throw new TypeError('LsqWeightQuantizer: a config { bits } is required');
    lsqRange(cfg.bits);
    this.bits = cfg.bits;
    this.perChannel = cfg.perChannel ?? true;
    this.name = cfg.name ?? `lsq-w${cfg.bits}`;
  }

  private get granularity(): LsqGranularity {
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
    });
  }

  /** Integer codes `round(clamp(w/s', Qn, Qp))` with `value = s'[c]·code` (offset 0, divisor 1). */
  codes(w: Tensor): QuantizedWeights {
    if (this.stepVar === null) this.initFrom(w);
    const { qn, qp } = lsqRange(this.bits);
    const step = this.stepVar as tf.Variable;
    const channels = w.shape[w.rank - 1];
    const [codesT, scalesT] = tf.tidy(() => {
      let s = tf.maximum(step, LSQ_MIN_STEP);
      if (!this.perChannel) s = tf.tile(tf.reshape(s, [1]), [channels]);
      return [tf.cast(tf.round(tf.clipByValue(tf.div(w, s), qn, qp)), 'int32'), s];
    });
    const out: QuantizedWeights = {
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
