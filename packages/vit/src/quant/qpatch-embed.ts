// 8-bit patch embedding (reference LSQ_QConv2d): per-pixel shift, image LSQ (per input channel,
// unsigned until a negative value is seen), per-pixel shift, conv with a per-output-channel LSQ weight.
import * as tf from '@tensorflow/tfjs-core';
import type { Tensor } from '@tensorflow/tfjs-core';
import { LSQQuantizer, LSQWeightQuantizer, PixelBias } from '@ofq/lsq';
import type { QuantizedWeightRef } from '@ofq/core';
import { variableRef, type Module } from '../module.js';
import { convWeightSpec, directSpec, type ParamSpec } from '../params.js';
import { embedPatches } from '../fp/patch-embed.js';
import { lsqStepSpec, pixelShiftSpec, signedBufferSpec } from './specs.js';

export class QPatchEmbed implements Module {
  readonly before: PixelBias;
  readonly inputQuant: LSQQuantizer;
  readonly after: PixelBias;
  readonly weightQuant: LSQWeightQuantizer;

  constructor(
    /** Conv kernel [p, p, C, O]; taken over. */
    readonly kernel: tf.Variable,
    readonly bias: tf.Variable,
    imgSize: number,
    o: { bits?: number; gradScaleBatch?: number } = {},
  ) {
    const bits = o.bits ?? 8;
    this.before = new PixelBias(imgSize, imgSize);
    this.inputQuant = new LSQQuantizer({ bits, granularity: 'channel', autoSign: true, gradScaleBatch: o.gradScaleBatch, name: 'input_quant_fn' });
    this.after = new PixelBias(imgSize, imgSize);
    this.weightQuant = new LSQWeightQuantizer({ bits, name: 'lsqw_fn', stepConstraint: 'clamp' }); // the reference's floor (docs/decisions.md #19)
    this.weightQuant.initFrom(kernel);
  }

  /** NHWC images → tokens `[B, P, O]`. */
  apply(x: Tensor): Tensor {
    return tf.tidy(() => {
      const img = this.after.apply(this.inputQuant.apply(this.before.apply(x)));
      return embedPatches(img, this.weightQuant.quantize(this.kernel), this.bias);
    });
  }

  params(): ParamSpec[] {
    const [, , cin, cout] = this.kernel.shape as number[];
    return [
      convWeightSpec('proj.weight', this.kernel),
      directSpec('proj.bias', this.bias),
      lsqStepSpec('proj.input_quant_fn.s', this.inputQuant, [cin]),
      signedBufferSpec('proj.input_quant_fn.signed', this.inputQuant),
      lsqStepSpec('proj.lsqw_fn.s', this.weightQuant, [cout]),
      pixelShiftSpec('proj.move_b4.bias', this.before),
      pixelShiftSpec('proj.move_aft.bias', this.after),
    ];
  }

  quantizedWeights(): QuantizedWeightRef[] {
    return [variableRef('proj.weight', this.kernel, this.weightQuant)];
  }

  activationQuantizers(): LSQQuantizer[] {
    return [this.inputQuant];
  }

  dispose(): void {
    tf.dispose([this.kernel, this.bias]);
    this.before.dispose();
    this.inputQuant.dispose();
    this.after.dispose();
    this.weightQuant.dispose();
  }
}
