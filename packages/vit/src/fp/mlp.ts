// Full-precision MLP: fc1 → exact GELU → fc2 (dropout 0).
import * as tf from '@tensorflow/tfjs-core';
import type { Tensor } from '@tensorflow/tfjs-core';
import type { Module } from '../module.js';
import { prefixed, type ParamSpec } from '../params.js';
import { type Linear } from '../nn/linear.js';
import { gelu } from '../nn/gelu.js';

export class Mlp implements Module {
  constructor(readonly fc1: Linear, readonly fc2: Linear) {}

  apply(x: Tensor): Tensor {
    return tf.tidy(() => this.fc2.apply(gelu(this.fc1.apply(x))));
  }

  params(): ParamSpec[] {
    return [...prefixed('fc1', this.fc1.params()), ...prefixed('fc2', this.fc2.params())];
  }

  dispose(): void {
    this.fc1.dispose();
    this.fc2.dispose();
  }
}
