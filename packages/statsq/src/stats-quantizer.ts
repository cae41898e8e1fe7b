import type { Tensor } from '@tensorflow/tfjs-core';
import type { QuantizedWeights, QuantizerState, WeightQuantizer } from '@ofq/core';
import { statsCodes } from './stats-codes.js';
import { statsQuantize } from './stats-quantize.js';
import { statsLevels, statsPreRound, statsScale, type StatsQOptions } from './stats-scale.js';

/**
 * StatsQ as a `WeightQuantizer`: stateless, the scale `2·mean|w|` is recomputed from the weight at every
 * call. Grid: codes `[−n, n−1]`, value `s·(k + 0.5)/n`, n = 2^(bits−1).
 */
export class StatsQuantizer implements WeightQuantizer {
  readonly kind = 'statsq';
  readonly name: string;
  readonly bits: number;
  readonly codeRange: readonly [number, number];
  readonly offset = 0.5;
  readonly divisor: number;
  readonly state: readonly QuantizerState[] = [];

  constructor(o: StatsQOptions & { name?: string }) {
    const n = statsLevels(o); // validates bits
    this.bits = o.bits;
    this.divisor = n;
    this.codeRange = [-n, n - 1];
    this.name = o.name ?? `statsq-w${o.bits}`;
  }

  scale(w: Tensor): Tensor {
    return statsScale(w);
  }

  preRound(w: Tensor): Tensor {
    return statsPreRound(w, { bits: this.bits });
  }

  quantize(w: Tensor): Tensor {
    return statsQuantize(w, { bits: this.bits });
  }

  codes(w: Tensor): QuantizedWeights {
    return statsCodes(w, { bits: this.bits });
  }

  /** StatsQ owns no tensors; present because every `WeightQuantizer` can be disposed. */
  dispose(): void {}
}
