import * as tf from '@tensorflow/tfjs-core';
import type { Tensor } from '@tensorflow/tfjs-core';
import type { ActivationQuantizer } from '@ofq/core';
import { lsqQuantize } from './lsq-quantize.js';
import { assertGranularity, lsqGradScale, lsqRange, sharedAxes, stepCountFor, type LSQGranularity } from './lsq-range.js';
import { createOrAssignStep, toStepTensor } from './step-variable.js';

export interface LSQConfig {
  bits: number;
  granularity: LSQGranularity;
  /** all_positive: `[0, 2^b-1]`; default signed `[-2^(b-1), 2^(b-1)-1]`. */
  unsigned?: boolean;
  /** Image input (reference LsqQuantizer4img): unsigned until any value < -1e-5 is seen, then signed forever. */
  autoSign?: boolean;
  /** Default true; false freezes the step (a non-trainable variable). */
  learnable?: boolean;
  /** Decision #5: use this batch size instead of the call's in `g = 1/sqrt(Qp·count)`. */
  gradScaleBatch?: number;
  /** Display name only. */
  name?: string;
}

/** Value below which autoSign mode switches to the signed range for good. */
const AUTO_SIGN_THRESHOLD = -1e-5;

/**
 * LSQ activation quantizer with a learnable step, one per token (axis -2), per channel (axis -1) or
 * per tensor. The step is created lazily from the first input (the reference's initialisation), or
 * explicitly by `initFrom(x)` so a trainer can run the initialisation pass before building its optimizer.
 */
export class LSQQuantizer implements ActivationQuantizer {
  readonly name: string;
  readonly bits: number;
  readonly granularity: LSQGranularity;
  readonly unsigned: boolean;
  readonly autoSign: boolean;
  readonly learnable: boolean;
  readonly gradScaleBatch: number | undefined;
  private stepVar: tf.Variable | null = null;
  private seenNegative = false;

  constructor(cfg: LSQConfig) {
    if (cfg == null || typeof cfg !== 'object') throw new TypeError('LSQQuantizer: a config { bits, granularity } is required');
    lsqRange(cfg.bits); // validates bits
    this.bits = cfg.bits;
    this.granularity = assertGranularity(cfg.granularity);
    this.unsigned = cfg.unsigned ?? false;
    this.autoSign = cfg.autoSign ?? false;
    if (this.autoSign && this.unsigned) throw new RangeError('LSQQuantizer: autoSign and unsigned are exclusive (autoSign picks the sign from the data)');
    this.learnable = cfg.learnable ?? true;
    if (cfg.gradScaleBatch !== undefined && !(Number.isInteger(cfg.gradScaleBatch) && cfg.gradScaleBatch > 0)) {
      throw new RangeError(`LSQQuantizer: gradScaleBatch must be a positive integer, got ${String(cfg.gradScaleBatch)}`);
    }
    this.gradScaleBatch = cfg.gradScaleBatch;
    this.name = cfg.name ?? `lsq-a${cfg.bits}-${this.granularity}`;
  }

  /** The learnable step (`[N]`, `[C]` or `[1]`), null until initialised. */
  get step(): tf.Variable | null {
    return this.stepVar;
  }

  get initialized(): boolean {
    return this.stepVar !== null;
  }

  /** Current range: signed unless `unsigned`, or (autoSign) until a negative value has been seen. */
  get signed(): boolean {
    return this.autoSign ? this.seenNegative : !this.unsigned;
  }

  private range(): { qn: number; qp: number } {
    return lsqRange(this.bits, !this.signed);
  }

  private observeSign(x: Tensor): void {
    if (!this.autoSign || this.seenNegative || x.size === 0) return;
    const m = tf.min(x);
    const v = m.dataSync()[0];
    m.dispose();
    if (v < AUTO_SIGN_THRESHOLD) this.seenNegative = true;
  }

  private checkInput(x: Tensor, what: string): void {
    if (x == null || typeof x.rank !== 'number') throw new TypeError(`${this.name}.${what}: expected a tf.Tensor`);
    if (x.dtype !== 'float32') throw new TypeError(`${this.name}.${what}: expected float32 input, got ${x.dtype}`);
  }

  /**
   * Data-dependent initialisation (no gradient): `s0 = 2·mean|x|/sqrt(Qp)` over the axes a step is
   * shared across; `4·mean|x|/sqrt(Qp)` when unsigned (except per-tensor and autoSign, which use 2·).
   */
  initFrom(x: Tensor): void {
    this.checkInput(x, 'initFrom');
    const bad = tf.tidy(() => tf.sum(tf.cast(tf.logicalNot(tf.isFinite(x)), 'int32')));
    const nonFinite = bad.dataSync()[0]!;
    bad.dispose();
    if (nonFinite > 0) {
      throw new RangeError(`${this.name}.initFrom: the input holds ${nonFinite} NaN/Inf value${nonFinite > 1 ? 's' : ''} of ${x.size}; the initial step 2·mean|x|/sqrt(Qp) would not be finite`);
    }
    this.observeSign(x);
    const { qp } = this.range();
    const factor = this.unsigned && this.granularity !== 'tensor' ? 4 : 2;
    const axes = sharedAxes(this.granularity, x.rank, `${this.name}.initFrom`);
    const init = tf.tidy(() => {
      const meanAbs = axes.length ? tf.mean(tf.abs(x), axes) : tf.abs(x);
      const s0 = tf.div(tf.mul(meanAbs, factor), Math.sqrt(qp));
      return this.granularity === 'tensor' ? tf.reshape(s0, [1]) : s0;
    });
    this.stepVar = createOrAssignStep(this.stepVar, init, this.learnable);
    init.dispose();
  }

  /** Loads a step (e.g. from a checkpoint) and marks the quantizer initialised. */
  setStep(values: Tensor | ArrayLike<number>, shape?: number[]): void {
    const t = toStepTensor(values, shape, this.granularity === 'tensor');
    if (t.size === 0 || (this.granularity !== 'tensor' && t.rank !== 1)) {
      const s = t.shape;
      t.dispose();
      throw new RangeError(`${this.name}.setStep: '${this.granularity}' steps are a 1-D tensor, got shape [${s}]`);
    }
    this.stepVar = createOrAssignStep(this.stepVar, t, this.learnable);
    t.dispose();
  }

  /** Marks the range signed (autoSign mode), as when loading the reference's `signed` buffer. */
  setSigned(signed: boolean): void {
    if (!this.autoSign) throw new Error(`${this.name}.setSigned: only autoSign quantizers have a data-dependent sign`);
    this.seenNegative = signed;
  }

  /** Fake-quantized `x` with LSQ's gradients to x and (if learnable) to the step. */
  apply(x: Tensor): Tensor {
    this.checkInput(x, 'apply');
    this.observeSign(x);
    if (this.stepVar === null) this.initFrom(x);
    const step = this.stepVar as tf.Variable;
    const expected = stepCountFor(this.granularity, x.shape, `${this.name}.apply`);
    if (step.size !== expected) {
      throw new RangeError(
        `${this.name}.apply: input [${x.shape}] needs ${expected} '${this.granularity}' steps, the quantizer has ${step.size} (initialised from another shape?)`,
      );
    }
    const { qp } = this.range();
    return lsqQuantize(x, step, {
      bits: this.bits,
      unsigned: !this.signed,
      granularity: this.granularity,
      gradScale: lsqGradScale(qp, this.granularity, x.shape, this.gradScaleBatch),
    });
  }

  dispose(): void {
    this.stepVar?.dispose();
    this.stepVar = null;
  }
}
