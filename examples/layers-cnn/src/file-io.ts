// tf.io handlers for a folder in Node (model.json + weights.bin), for builds without tfjs-node's file://.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';

export function fileSaveHandler(dir: string): tf.io.IOHandler {
  return tf.io.withSaveHandler(async (a) => {
    mkdirSync(dir, { recursive: true });
    const data = tf.io.concatenateArrayBuffers(Array.isArray(a.weightData) ? a.weightData : a.weightData ? [a.weightData] : []);
    writeFileSync(join(dir, 'weights.bin'), new Uint8Array(data));
    const json = { modelTopology: a.modelTopology, format: a.format, generatedBy: a.generatedBy, convertedBy: a.convertedBy, userDefinedMetadata: a.userDefinedMetadata, weightsManifest: [{ paths: ['weights.bin'], weights: a.weightSpecs }] };
    writeFileSync(join(dir, 'model.json'), JSON.stringify(json));
    return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(a) };
  });
}

export function fileLoadHandler(dir: string): tf.io.IOHandler {
  const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
  const bin = readFileSync(join(dir, 'weights.bin'));
  return tf.io.fromMemory({
    modelTopology: json.modelTopology,
    weightSpecs: json.weightsManifest[0].weights,
    weightData: bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength),
    userDefinedMetadata: json.userDefinedMetadata,
  });
}
