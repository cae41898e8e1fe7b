// Reading checkpoints: safetensors bytes → name → float32 tensor map (PyTorch layouts, names untouched).
import * as tf from '@tensorflow/tfjs-core';
import { readSafetensors, toFloat32, writeSafetensors } from '@ofq/core';

/** Every tensor of a safetensors file as float32 (F16/BF16/F64/integers converted). Caller disposes. */
export function loadSafetensors(bytes: Uint8Array): Map<string, tf.Tensor> {
  const file = readSafetensors(bytes);
  const out = new Map<string, tf.Tensor>();
  for (const [name, entry] of file.tensors) out.set(name, tf.tensor(toFloat32(entry), entry.shape, 'float32'));
  return out;
}

/** A state dict (as `stateDict()` returns it) as safetensors bytes, float32. Does not dispose the tensors. */
export function saveSafetensors(tensors: Map<string, tf.Tensor>, metadata: Record<string, string> = {}): Uint8Array {
  const entries = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const [name, t] of tensors) entries.set(name, { shape: t.shape.slice(), data: t.dataSync() as Float32Array });
  return writeSafetensors(entries, metadata);
}
