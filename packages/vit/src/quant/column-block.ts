// A block of output channels of a fused weight (q, k or v of a qkv kernel) as a quantized weight of its
// own, so metrics follow q, k and v separately. Per-channel quantizers give every column its own scale,
// so the block's codes are exactly the fused weight's codes in those columns.
import * as tf from '@tensorflow/tfjs-core';
import type { Tensor, Variable } from '@tensorflow/tfjs-core';
import { weightCodes, type QuantizedWeightRef, type QuantizedWeights, type QuantizerState, type WeightQuantizer } from '@ofq/core';

/**
 * The fused quantizer seen through columns `[start, start + count)` of `fused`. Only valid for tensors that
 * are that block of `fused` as it is now (which is all `columnBlockRef` hands it): values come from the
 * fused weight, so a quantizer with state (an LSQ step per column) keeps using its own full state.
 */
class ColumnBlockQuantizer implements WeightQuantizer {
  readonly state: readonly QuantizerState[] = [];

  constructor(
    private readonly inner: WeightQuantizer,
    private readonly fused: Variable,
    private readonly start: number,
    private readonly count: number,
  ) {}

  get kind(): string { return this.inner.kind; }
  get name(): string { return `${this.inner.name}[${this.start}:${this.start + this.count}]`; }
  get bits(): number { return this.inner.bits; }
  get codeRange(): readonly [number, number] { return this.inner.codeRange; }
  get offset(): number { return this.inner.offset; }
  get divisor(): number { return this.inner.divisor; }

  private columns(t: Tensor): Tensor {
    const rows = t.size / t.shape[t.rank - 1];
    return tf.reshape(tf.slice(tf.reshape(t, [rows, -1]), [0, this.start], [rows, this.count]), [...t.shape.slice(0, -1), this.count]);
  }

  private check(w: Tensor): void {
    if (w.shape[w.rank - 1] !== this.count) throw new Error(`${this.name}: expected a block of ${this.count} columns, got [${w.shape}]`);
  }

  scale(w: Tensor): Tensor {
    this.check(w);
    return tf.tidy(() => tf.slice(this.inner.scale(this.fused), [this.start], [this.count]));
  }

  preRound(w: Tensor): Tensor {
    this.check(w);
    return tf.tidy(() => this.columns(this.inner.preRound(this.fused)));
  }

  quantize(w: Tensor): Tensor {
    this.check(w);
    return tf.tidy(() => this.columns(this.inner.quantize(this.fused)));
  }

  codes(w: Tensor): QuantizedWeights {
    const [codesT, scaleT] = tf.tidy(() => [tf.cast(weightCodes(this, w), 'int32'), this.scale(w)]);
    const out: QuantizedWeights = {
      kind: this.kind,
      codes: Int32Array.from(codesT.dataSync()),
      scales: Float32Array.from(scaleT.dataSync()),
      offset: this.offset,
      divisor: this.divisor,
      bits: this.bits,
      codeRange: [...this.codeRange],
      shape: w.shape.slice(),
      channelAxis: -1,
    };
    tf.dispose([codesT, scaleT]);
    return out;
  }

  /** The fused weight's quantizer owns the state; nothing to release here. */
  dispose(): void {}
}

/** Columns `[start, start + count)` of a fused kernel `[in, out]`, quantized by the fused kernel's quantizer. */
export function columnBlockRef(name: string, fused: Variable, quantizer: WeightQuantizer, start: number, count: number): QuantizedWeightRef {
  const rows = fused.shape[0];
  return {
    name,
    quantizer: new ColumnBlockQuantizer(quantizer, fused, start, count),
    variable: null,
    read: () => tf.slice(fused, [0, start], [rows, count]),
  };
}
