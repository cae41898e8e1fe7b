import type { Tensor } from '@tensorflow/tfjs-core';
import type { ParamSpec } from './params.js';

/** What every DeiT building block offers: a forward, its state-dict entries, and cleanup. */
export interface Module {
  apply(x: Tensor): Tensor;
  params(): ParamSpec[];
  dispose(): void;
}
