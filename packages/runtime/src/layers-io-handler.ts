// A tf.io.IOHandler over a packed Layers model: `tf.loadLayersModel(packedLayersHandler(src))` gets the
// topology and the weights with every packed kernel dequantized once.
import type * as tf from '@tensorflow/tfjs-core';
import { dequantizeWeights } from '@ofq/core';
import { packedFail } from './errors.js';
import { packedBytes, type LoadOptions, type PackedSource } from './load.js';
import { readPackedModel, type PackedModelFile } from './packed-format.js';

/** The model artifacts of a validated packed Layers file (weights float32, in the saved order). */
export function layersArtifacts(file: PackedModelFile): tf.io.ModelArtifacts {
  const m = file.model;
  if (m.type !== 'layers') packedFail(`this file holds a ${m.type} model, not a Layers model`);
  const total = m.weightSpecs.reduce((a, s) => a + s.shape.reduce((x, y) => x * y, 1), 0);
  const out = new Float32Array(total);
  let at = 0;
  const used = new Set<string>();
  for (const s of m.weightSpecs) {
    const q = file.weights.get(s.name);
    const f = file.floats.get(s.name);
    const shape = q ? q.shape : f?.shape;
    if (!shape) packedFail(`weight "${s.name}" of ofq.model.weightSpecs is not in the file`);
    if (shape.join(',') !== s.shape.join(',')) packedFail(`weight "${s.name}" is [${shape}], ofq.model.weightSpecs says [${s.shape}]`);
    const values = q ? dequantizeWeights(q) : (f as { data: Float32Array }).data;
    out.set(values, at);
    at += values.length;
    used.add(s.name);
  }
  const extra = [...file.weights.keys(), ...file.floats.keys()].filter((n) => !used.has(n));
  if (extra.length) packedFail(`tensors not in ofq.model.weightSpecs: ${extra.join(', ')}`);
  return {
    modelTopology: m.modelTopology as tf.io.ModelArtifacts['modelTopology'],
    weightSpecs: m.weightSpecs.map((s) => ({ name: s.name, shape: s.shape.slice(), dtype: 'float32' })),
    weightData: out.buffer,
    format: 'layers-model',
    generatedBy: '@ofq/runtime',
  };
}

/** An IOHandler that loads a packed Layers model from bytes or a URL. */
export function packedLayersHandler(source: PackedSource, o: LoadOptions = {}): tf.io.IOHandler {
  return {
    load: async () => layersArtifacts(readPackedModel(await packedBytes(source, o))),
  };
}
