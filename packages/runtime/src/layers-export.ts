// Export of a tfjs Layers model quantized with @ofq/statsq's applyStatsQ: tfjs's own save artifacts
// (topology, weight order) with every quantized kernel replaced by its packed codes.
import * as tf from '@tensorflow/tfjs-core';
import type { QuantizedWeights } from '@ofq/core';
import { packedFail } from './errors.js';
import type { ExportOptions } from './deit-export.js';
import { writePackedModel, type PackedFloat, type PackedModelContent } from './packed-format.js';

/** The part of a `tf.LayersModel` export uses (structural: no tfjs-layers import). */
export interface LayersModelLike {
  save(handler: tf.io.IOHandler): Promise<unknown>;
}

/** The part of applyStatsQ's handle export uses. */
export interface QuantizedKernelsHandle {
  export(): Record<string, QuantizedWeights>;
  summary(): { layers: Array<{ name: string; kernelName: string }> };
}

async function saveArtifacts(model: LayersModelLike): Promise<tf.io.ModelArtifacts> {
  let captured: tf.io.ModelArtifacts | null = null;
  await model.save(
    tf.io.withSaveHandler(async (a) => {
      captured = a;
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(a) };
    }),
  );
  if (!captured) packedFail('the model saved no artifacts');
  return captured;
}

/** The packed content of a Layers model and the applyStatsQ handle of its quantized kernels. */
export async function packLayersModel(model: LayersModelLike, handle: QuantizedKernelsHandle, o: ExportOptions = {}): Promise<PackedModelContent> {
  const a = await saveArtifacts(model);
  if (!a.weightSpecs || a.weightData === undefined) packedFail('the model has no weights to pack');
  const data = tf.io.CompositeArrayBuffer.join(a.weightData);
  const records = handle.export();
  const bySpec = new Map<string, QuantizedWeights>();
  for (const l of handle.summary().layers) {
    const r = records[l.name];
    if (!r) continue;
    const spec = a.weightSpecs.find((s) => s.name === l.kernelName || s.name === `${l.name}/kernel`);
    if (!spec) packedFail(`no saved weight for the kernel of layer "${l.name}" (${l.kernelName})`);
    bySpec.set(spec.name, r);
  }
  const weights = new Map<string, QuantizedWeights>();
  const floats = new Map<string, PackedFloat>();
  let offset = 0;
  for (const s of a.weightSpecs) {
    if (s.dtype !== 'float32') packedFail(`weight "${s.name}" is ${s.dtype}; only float32 models are packed`);
    const n = s.shape.reduce((x, y) => x * y, 1);
    const values = new Float32Array(data.slice(offset, offset + 4 * n));
    offset += 4 * n;
    const r = bySpec.get(s.name);
    if (r) {
      if (r.shape.join(',') !== s.shape.join(',')) packedFail(`kernel "${s.name}" codes are [${r.shape}], the weight is [${s.shape}]`);
      weights.set(s.name, r);
    } else {
      floats.set(s.name, { shape: s.shape.slice(), data: values });
    }
  }
  const weightSpecs = a.weightSpecs.map((s) => ({ name: s.name, shape: s.shape.slice(), dtype: 'float32' as const }));
  return { model: { type: 'layers', modelTopology: a.modelTopology, weightSpecs }, weights, floats, input: o.input, info: o.info };
}

/** `.ofq` bytes of a Layers model quantized with applyStatsQ. */
export async function exportLayersModel(model: LayersModelLike, handle: QuantizedKernelsHandle, o: ExportOptions = {}): Promise<Uint8Array> {
  return writePackedModel(await packLayersModel(model, handle, o));
}
