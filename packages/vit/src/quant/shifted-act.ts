// The reference's quantized activation: `x̂ = b_after + LSQ(x + b_before)` with learnable shifts.
import * as tf from '@tensorflow/tfjs-core';
import type { Tensor } from '@tensorflow/tfjs-core';
import { LearnableBias, LSQQuantizer, type LSQConfig } from '@ofq/lsq';
import { lsqStepSpec, shiftSpec } from './specs.js';
import type { ParamSpec } from '../params.js';

export class ShiftedAct {
  readonly before: LearnableBias;
  readonly quantizer: LSQQuantizer;
  readonly after: LearnableBias;

  constructor(
    size: number,
    cfg: LSQConfig,
    /** Shape of the step once created (e.g. [N] per token, [1] per tensor). */
    readonly stepShape: number[],
  ) {
    this.before = new LearnableBias(size);
    this.quantizer = new LSQQuantizer(cfg);
    this.after = new LearnableBias(size);
  }

  apply(x: Tensor): Tensor {
    return tf.tidy(() => this.after.apply(this.quantizer.apply(this.before.apply(x))));
  }

  stepSpec(name = 'input_quant_fn.s'): ParamSpec {
    return lsqStepSpec(name, this.quantizer, this.stepShape);
  }

  shiftSpecs(before = 'move_b4.bias', after = 'move_aft.bias'): ParamSpec[] {
    return [shiftSpec(before, this.before), shiftSpec(after, this.after)];
  }

  dispose(): void {
    this.before.dispose();
    this.quantizer.dispose();
    this.after.dispose();
  }
}
