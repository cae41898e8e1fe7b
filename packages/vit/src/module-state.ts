// State-dict access for single modules (QLinear, QMLP, QKRAttention, blocks, …) in the reference's
// relative names, e.g. to check them against the reference's module-level vectors.
import type { Tensor } from '@tensorflow/tfjs-core';
import type { Module } from './module.js';
import { collectState, loadState } from './params.js';

export function moduleStateDict(m: Pick<Module, 'params'>): Map<string, Tensor> {
  return collectState(m.params());
}

export function loadModuleState(m: Pick<Module, 'params'>, tensors: Map<string, Tensor> | Record<string, Tensor>, o: { strict?: boolean } = {}): void {
  loadState(m.params(), tensors, { strict: o.strict ?? true, label: 'loadModuleState' });
}
