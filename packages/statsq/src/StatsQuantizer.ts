import type { Tensor } from '@tensorflow/tfjs-core';
import type { QuantizedWeights, WeightQuantizer } from '@ofq/core';
import { statsCodes } from './statsCodes.js';
import { statsQuantize } from './statsQuantize.js';
import { statsLevels, type StatsQOptions } from './statsScale.js';

/** StatsQ as a `WeightQuantizer` (stateless: the scale is recomputed from the weight at every call). */
export class StatsQuantizer implements WeightQuantizer {
  readonly name: string;
  readonly bits: number;

  constructor(o: StatsQOptions & { name?: string }) {
    statsLevels(o); // validates bits
    this.bits = o.bits;
    this.name = o.name ?? `statsq-w${o.bits}`;
  }

  quantize(w: Tensor): Tensor {
    return statsQuantize(w, { bits: this.bits });
  }

  codes(w: Tensor): QuantizedWeights {
    return statsCodes(w, { bits: this.bits });
  }
}
