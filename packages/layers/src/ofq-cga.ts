import type * as tf from '@tensorflow/tfjs-core';
import { createCGA, type CGAOptimizer, type CGAOptions } from '@ofq/cga';
import type { OFQHandle } from './apply-ofq.js';

export interface OFQCGAOptions extends Omit<CGAOptions, 'quantizer' | 'select'> {
  /** Which quantized kernels to anneal (names `layer/kernel`; default all of them). */
  select?: CGAOptions['select'];
  /** Also anneal kernels whose bit-width is above this (default 4: 8-bit first/last layers are left free). */
  maxBits?: number;
}

/**
 * CGA over the kernels an applyOFQ handle quantized, each with the quantizer its forward pass applies
 * (so bits and layers are not repeated by hand). Layers left in float are never selected; layers above
 * `maxBits` (the 8-bit first/last layers of OFQ) only when `maxBits` allows them.
 */
export function cgaForOFQ(handle: OFQHandle, optimizer: tf.Optimizer, o: OFQCGAOptions = {}): CGAOptimizer {
  const maxBits = o.maxBits ?? 4;
  const params = handle
    .quantizedWeights()
    .filter((r) => r.quantizer.bits <= maxBits && r.variable !== null)
    .map((r) => ({ name: r.name, variable: r.variable as tf.Variable, quantizer: r.quantizer }));
  const { maxBits: _ignored, ...cga } = o;
  return createCGA(optimizer, params, { select: '**', ...cga });
}
