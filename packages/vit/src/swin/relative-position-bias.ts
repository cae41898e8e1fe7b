// Swin's relative position bias: a learnable table `[(2ws-1)², H]` read through the fixed
// `relative_position_index`. The read is a matmul with a constant one-hot matrix: exact, and
// differentiable on every backend (tfjs-wasm has no gradient for tf.gather).
import * as tf from '@tensorflow/tfjs-core';
import type { Tensor } from '@tensorflow/tfjs-core';
import { directSpec, type ParamSpec } from '../params.js';
import { relativePositionIndex } from './windows.js';

export class RelativePositionBias {
  readonly index: Int32Array;
  private readonly oneHot: Tensor;

  constructor(
    /** Table `[(2ws-1)², H]` (PyTorch layout); taken over. */
    readonly table: tf.Variable,
    readonly windowSize: number,
  ) {
    const rows = (2 * windowSize - 1) ** 2;
    if (table.rank !== 2 || table.shape[0] !== rows) throw new Error(`RelativePositionBias: table must be [${rows}, heads], got [${table.shape}]`);
    this.index = relativePositionIndex(windowSize);
    // Built here, not with tf.oneHot (whose tfjs-wasm kernel gives wrong rows for this input).
    const oneHot = new Float32Array(this.index.length * rows);
    this.index.forEach((r, i) => (oneHot[i * rows + r] = 1));
    this.oneHot = tf.tensor2d(oneHot, [this.index.length, rows]);
  }

  get numHeads(): number {
    return this.table.shape[1] as number;
  }

  /** The bias of every head and token pair: `[H, N·N]` (N = ws²). */
  apply(): Tensor {
    return tf.tidy(() => tf.transpose(tf.matMul(this.oneHot as tf.Tensor2D, this.table as tf.Tensor2D)));
  }

  params(): ParamSpec[] {
    return [directSpec('relative_position_bias_table', this.table), indexSpec(this.index)];
  }

  dispose(): void {
    this.table.dispose();
    this.oneHot.dispose();
  }
}

/** The `relative_position_index` buffer: exported for name parity, checked on load (it is fixed by the window size). */
function indexSpec(index: Int32Array): ParamSpec {
  return {
    name: 'relative_position_index', torchShape: [index.length], kind: 'buffer',
    variable: () => null,
    read: () => tf.tensor1d(index, 'int32'),
    toTorch: (t) => tf.clone(t),
    write: (t) => {
      const got = t.dataSync();
      for (let i = 0; i < index.length; i++) {
        if (got[i] !== index[i]) throw new Error(`relative_position_index: entry ${i} is ${got[i]}, this window size needs ${index[i]}`);
      }
    },
  };
}
