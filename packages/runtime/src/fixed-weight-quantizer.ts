// A WeightQuantizer whose codes were fixed at export: the loaded model's weights are already the
// dequantized values, so `quantize` returns them unchanged (or the value set for the merged QKR W_qk,
// which the model computes from placeholders). Inference only: no gradient, no state.
import * as tf from '@tensorflow/tfjs-core';
import type { Tensor } from '@tensorflow/tfjs-core';
import type { QuantizedWeights, WeightQuantizer } from '@ofq/core';

/** The grid part of a `WeightQuantizer`. */
export interface WeightGrid {
  readonly kind: string;
  readonly bits: number;
  readonly codeRange: readonly [number, number];
  readonly offset: number;
  readonly divisor: number;
}

export class FixedWeightQuantizer implements WeightQuantizer {
  readonly kind: string;
  readonly bits: number;
  readonly codeRange: readonly [number, number];
  readonly offset: number;
  readonly divisor: number;
  readonly state = [] as const;
  private record: QuantizedWeights | null = null;
  private scales: Tensor | null = null;
  private value: Tensor | null = null;

  constructor(grid: WeightGrid, readonly name = 'fixed') {
    this.kind = grid.kind;
    this.bits = grid.bits;
    this.codeRange = [grid.codeRange[0], grid.codeRange[1]];
    this.offset = grid.offset;
    this.divisor = grid.divisor;
  }

  /** Fixes the codes; with `value` (taken over), `quantize` returns it whatever its input. */
  fix(record: QuantizedWeights, value?: Tensor): void {
    this.dispose();
    this.record = record;
    this.scales = tf.tensor1d(record.scales, 'float32');
    this.value = value ?? null;
  }

  private fixed(): QuantizedWeights {
    if (!this.record) throw new Error(`${this.name}: no codes fixed yet`);
    return this.record;
  }

  scale(_w: Tensor): Tensor {
    this.fixed();
    return tf.clone(this.scales as Tensor);
  }

  /** `code + 0 = v·divisor/scale − offset` for values on the grid. */
  preRound(w: Tensor): Tensor {
    return tf.tidy(() => tf.sub(tf.div(tf.mul(w, this.divisor), this.scale(w)), this.offset));
  }

  quantize(w: Tensor): Tensor {
    const r = this.fixed();
    if (w.shape.join(',') !== r.shape.join(',')) throw new Error(`${this.name}: weight [${w.shape}] does not match the fixed codes [${r.shape}]`);
    return tf.clone(this.value ?? w);
  }

  codes(_w: Tensor): QuantizedWeights {
    const r = this.fixed();
    return { ...r, codes: r.codes.slice(), scales: r.scales.slice(), shape: r.shape.slice(), codeRange: [r.codeRange[0], r.codeRange[1]] };
  }

  dispose(): void {
    this.scales?.dispose();
    this.value?.dispose();
    this.scales = this.value = null;
  }
}
