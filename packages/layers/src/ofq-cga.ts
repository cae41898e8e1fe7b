import type * as tf from '@tensorflow/tfjs-core';
import { OfqError } from '@ofq/core';
import { createCGA, type CGAOptimizer, type CGAOptions } from '@ofq/cga';
import type { OFQHandle } from './apply-ofq.js';

export interface OFQCGAOptions extends Omit<CGAOptions, 'quantizer' | 'select'> {
  /** Which quantized kernels to anneal (names `layer/kernel`; default all of them). */
  select?: CGAOptions['select'];
  /** Anneal kernels up to this bit-width (default 4: the 8-bit first/last layers of OFQ stay free). */
  maxBits?: number;
}

/**
 * CGA over the kernels an applyOFQ handle quantized, each with the quantizer its forward pass applies
 * (so bits and layers are not repeated by hand). Layers left in float are never selected; layers above
 * `maxBits` (the 8-bit first/last layers of OFQ) only when `maxBits` allows them.
 */
export function cgaForOFQ(handle: OFQHandle, optimizer: tf.Optimizer, o: OFQCGAOptions = {}): CGAOptimizer {
  const maxBits = o.maxBits ?? 4;
  const refs = handle.quantizedWeights().filter((r) => r.quantizer.bits <= maxBits && r.variable !== null);
  if (refs.length === 0) throw new OfqError(`cgaForOFQ: no quantized kernel at or below maxBits ${maxBits} to anneal`, { code: 'E_OFQ_OPTIONS' });
  const params = refs.map((r) => ({ name: r.name, variable: r.variable as tf.Variable, quantizer: r.quantizer }));
  const { maxBits: _ignored, ...cga } = o;
  return createCGA(optimizer, params, { select: '**', ...cga });
}
