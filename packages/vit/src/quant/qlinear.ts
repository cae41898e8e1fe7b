// Quantized Linear (reference QLinear / LSQ_QLinear4head): `y = (b_after + LSQ(x + b_before))·Q(K) + bias`,
// the bias staying full precision and added after the matmul.
import * as tf from '@tensorflow/tfjs-core';
import type { Tensor } from '@tensorflow/tfjs-core';
import type { QuantizedWeightRef, WeightQuantizer } from '@ofq/core';
import { LSQWeightQuantizer } from '@ofq/lsq';
import { StatsQuantizer } from '@ofq/statsq';
import type { LSQGranularity } from '@ofq/lsq';
import { variableRef, type Module } from '../module.js';
import { directSpec, linearWeightSpec, type ParamSpec } from '../params.js';
import { dense } from '../nn/linear.js';
import { ShiftedAct } from './shifted-act.js';
import { weightQuantizerSpec } from './specs.js';

export interface QLinearOptions {
  /** Weight quantizer bits and kind: StatsQ ('ofq') or per-row LSQ ('lsq'). */
  weightBits: number;
  weightMethod: 'statsq' | 'lsq';
  /** LSQ weights: 'abs' (default) or the reference's 'clamp' step constraint. */
  lsqStep?: 'abs' | 'clamp';
  actBits: number;
  /** 'token' (per token position, blocks) or 'tensor' (one step, the classifier heads). */
  inputGranularity: Extract<LSQGranularity, 'token' | 'tensor'>;
  /** Unsigned input range (fc2, after GELU). */
  unsignedInput?: boolean;
  /** Tokens N (steps of a per-token input quantizer). */
  tokens?: number;
  gradScaleBatch?: number;
  /** Use this weight quantizer instead of a new one of `weightMethod` (e.g. @ofq/runtime's fixed codes). */
  weightQuantizer?: WeightQuantizer;
}

/**
 * The weight quantizer of a quantized layer. LSQ weight steps depend only on the weight, so when `kernel`
 * is given they are created from it now (the same value as the reference's lazy init on the first
 * forward); otherwise on the first forward, as in the reference.
 */
export function makeWeightQuantizer(
  method: 'statsq' | 'lsq',
  bits: number,
  name: string,
  kernel?: Tensor,
  lsqStep?: 'abs' | 'clamp',
): WeightQuantizer {
  if (method !== 'lsq') return new StatsQuantizer({ bits, name });
  const q = new LSQWeightQuantizer({ bits, name, stepConstraint: lsqStep });
  if (kernel) q.initFrom(kernel);
  return q;
}

export class QLinear implements Module {
  readonly input: ShiftedAct;
  readonly weightQuantizer: WeightQuantizer;

  constructor(
    /** Kernel [in, out] (tfjs layout); taken over, not copied. */
    readonly kernel: tf.Variable,
    readonly bias: tf.Variable | null,
    readonly options: QLinearOptions,
  ) {
    const inF = kernel.shape[0] as number;
    const { inputGranularity: g, tokens } = options;
    if (g === 'token' && !tokens) throw new Error('QLinear: a per-token input quantizer needs the token count');
    this.input = new ShiftedAct(
      inF,
      { bits: options.actBits, granularity: g, unsigned: options.unsignedInput ?? false, gradScaleBatch: options.gradScaleBatch, name: 'input_quant_fn' },
      g === 'token' ? [tokens as number] : [1],
    );
    this.weightQuantizer = options.weightQuantizer ?? makeWeightQuantizer(options.weightMethod, options.weightBits, options.weightMethod === 'lsq' ? 'lsqw_fn' : 'statsq_fn', kernel, options.lsqStep);
  }

  apply(x: Tensor): Tensor {
    return tf.tidy(() => dense(this.input.apply(x), this.weightQuantizer.quantize(this.kernel), this.bias));
  }

  params(): ParamSpec[] {
    const out = [linearWeightSpec('weight', this.kernel)];
    if (this.bias) out.push(directSpec('bias', this.bias));
    out.push(this.input.stepSpec());
    out.push(...weightQuantizerSpec('statsq_fn', 'lsqw_fn', this.weightQuantizer, [this.kernel.shape[1] as number]));
    out.push(...this.input.shiftSpecs());
    return out;
  }

  activationQuantizers() {
    return [this.input.quantizer];
  }

  quantizedWeights(): QuantizedWeightRef[] {
    return [variableRef('weight', this.kernel, this.weightQuantizer)];
  }

  dispose(): void {
    this.kernel.dispose();
    this.bias?.dispose();
    this.input.dispose();
    this.weightQuantizer.dispose();
  }
}

/** The 8-bit classifier head (reference LSQ_QLinear4head): per-tensor input LSQ with shifts, per-row LSQ weight. */
export class QHead extends QLinear {
  constructor(kernel: tf.Variable, bias: tf.Variable | null, o: { bits?: number; gradScaleBatch?: number } = {}) {
    const bits = o.bits ?? 8;
    // The reference's 8-bit step floor (docs/decisions.md #19 applies to the LSQ baseline's block weights):
    // keeps the OFQ model's numbers those of the reference bit for bit.
    super(kernel, bias, { weightBits: bits, weightMethod: 'lsq', lsqStep: 'clamp', actBits: bits, inputGranularity: 'tensor', gradScaleBatch: o.gradScaleBatch });
  }
}
