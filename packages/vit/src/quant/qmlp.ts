// Quantized MLP (reference QMLP): fc1 (signed per-token input) → exact GELU → fc2 (unsigned per-token input).
import * as tf from '@tensorflow/tfjs-core';
import type { Tensor } from '@tensorflow/tfjs-core';
import type { QuantizedWeightRef } from '@ofq/core';
import { prefixedRefs, type Module } from '../module.js';
import { prefixed, type ParamSpec } from '../params.js';
import { gelu } from '../nn/gelu.js';
import type { QLinear } from './qlinear.js';

export class QMLP implements Module {
  constructor(readonly fc1: QLinear, readonly fc2: QLinear) {
    if (!fc2.options.unsignedInput) throw new Error('QMLP: fc2 takes the GELU output with an unsigned input quantizer');
  }

  apply(x: Tensor): Tensor {
    return tf.tidy(() => this.fc2.apply(gelu(this.fc1.apply(x))));
  }

  quantizedWeights(): QuantizedWeightRef[] {
    return [...prefixedRefs('fc1', this.fc1), ...prefixedRefs('fc2', this.fc2)];
  }

  params(): ParamSpec[] {
    return [...prefixed('fc1', this.fc1.params()), ...prefixed('fc2', this.fc2.params())];
  }

  activationQuantizers() {
    return [...this.fc1.activationQuantizers(), ...this.fc2.activationQuantizers()];
  }

  dispose(): void {
    this.fc1.dispose();
    this.fc2.dispose();
  }
}
