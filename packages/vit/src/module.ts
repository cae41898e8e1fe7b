import type * as tf from '@tensorflow/tfjs-core';
import type { Tensor } from '@tensorflow/tfjs-core';
import type { QuantizedWeightRef, WeightQuantizer } from '@ofq/core';
import type { LSQQuantizer } from '@ofq/lsq';
import type { ParamSpec } from './params.js';

/** What every DeiT building block offers: a forward, its state-dict entries, and cleanup. */
export interface Module {
  apply(x: Tensor): Tensor;
  params(): ParamSpec[];
  /** Its quantized weights with the quantizers applied to them (names relative to the module). */
  quantizedWeights?(): QuantizedWeightRef[];
  dispose(): void;
}

/** A module's quantized weights under `prefix.` (none for a float module). */
export function prefixedRefs(prefix: string, m: Module | null | undefined): QuantizedWeightRef[] {
  return (m?.quantizedWeights?.() ?? []).map((r) => ({ ...r, name: `${prefix}.${r.name}` }));
}

/** A quantized weight that is a variable itself. */
export function variableRef(name: string, variable: tf.Variable, quantizer: WeightQuantizer): QuantizedWeightRef {
  return { name, quantizer, variable, read: () => variable.clone() };
}

/** A module's LSQ activation quantizers in forward order (none for a module without `activationQuantizers`). */
export function activationQuantizersOf(m: unknown): LSQQuantizer[] {
  const f = (m as { activationQuantizers?: () => LSQQuantizer[] }).activationQuantizers;
  return typeof f === 'function' ? f.call(m) : [];
}
