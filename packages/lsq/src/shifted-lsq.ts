// The reference's quantized activation with learnable shifts: `x̂ = b_after + LSQ(x + b_before)`
// (its `move_b4` / `move_aft` around an LSQ quantizer). One definition for every model that uses it.
import * as tf from '@tensorflow/tfjs-core';
import type { Tensor } from '@tensorflow/tfjs-core';
import { LearnableBias } from './learnable-bias.js';
import { LSQQuantizer, type LSQConfig } from './lsq-quantizer.js';

export class ShiftedLSQ {
  readonly before: LearnableBias;
  readonly quantizer: LSQQuantizer;
  readonly after: LearnableBias;

  /** `size`: the shifts' length (the input's last axis). */
  constructor(size: number, cfg: LSQConfig) {
    this.before = new LearnableBias(size);
    this.quantizer = new LSQQuantizer(cfg);
    this.after = new LearnableBias(size);
  }

  apply(x: Tensor): Tensor {
    return tf.tidy(() => this.after.apply(this.quantizer.apply(this.before.apply(x))));
  }

  /** The shifts, and the step once initialised. */
  variables(): tf.Variable[] {
    return [this.before.variable, this.after.variable, ...(this.quantizer.step ? [this.quantizer.step] : [])];
  }

  dispose(): void {
    this.before.dispose();
    this.quantizer.dispose();
    this.after.dispose();
  }
}
