// Export of a quantized @ofq/vit DeiT to the packed format: the codes and scales of every quantized
// weight (QKR: the merged W_qk per head as the quantizer sees it), every other state-dict tensor in float.
import * as tf from '@tensorflow/tfjs-core';
import type { QuantizedWeights } from '@ofq/core';
import { DeiT, type DeiTModel } from '@ofq/vit';
import { deitWeightSlots } from './deit-slots.js';
import { packedFail } from './errors.js';
import { writePackedModel, type PackedFloat, type PackedInput, type PackedModelContent } from './packed-format.js';

export interface ExportOptions {
  /** Preprocessing recorded in the file (`ofq.input`). */
  input?: PackedInput;
  /** Provenance recorded in the file (`ofq.info`). */
  info?: Record<string, unknown>;
}

/** The packed content of a quantized DeiT (from `quantizeDeiT` / `createDeiT` with `quant`). */
export function packDeiT(model: DeiTModel, o: ExportOptions = {}): PackedModelContent {
  if (!(model instanceof DeiT) || !model.config.quant) packedFail('packDeiT expects a quantized @ofq/vit DeiT (quantizeDeiT or createDeiT with quant)');
  const weights = new Map<string, QuantizedWeights>();
  const covered = new Set<string>();
  for (const slot of deitWeightSlots(model)) {
    const latent = slot.latent();
    try {
      weights.set(slot.name, slot.quantizer.codes(latent));
    } finally {
      latent.dispose();
    }
    for (const c of slot.covers) covered.add(c);
  }
  const floats = new Map<string, PackedFloat>();
  const state = model.stateDict({ naming: 'ofq-reference' });
  try {
    for (const [name, t] of state) {
      if (!covered.has(name)) floats.set(name, { shape: t.shape.slice(), data: new Float32Array(t.dataSync()) });
    }
  } finally {
    tf.dispose([...state.values()]);
  }
  return { model: { type: 'deit', config: JSON.parse(JSON.stringify(model.config)) }, weights, floats, input: o.input, info: o.info };
}

/** `.ofq` bytes of a quantized DeiT. */
export function exportDeiT(model: DeiTModel, o: ExportOptions = {}): Uint8Array {
  return writePackedModel(packDeiT(model, o));
}
