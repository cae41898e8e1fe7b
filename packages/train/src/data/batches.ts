import { Rng } from './rng.js';
import type { ImageDataset } from './datasets.js';

/** One batch on the JS side: normalised NHWC floats and integer labels. */
export interface Batch {
  x: Float32Array; // [size, H, W, C]
  y: Int32Array; // [size]
  /** Soft targets [size, classes] (mixup/cutmix, label smoothing); the loss uses them in place of `y`. */
  targets?: Float32Array;
  size: number;
  shape: [number, number, number, number];
}

/** What a training stage and an evaluation read: batches of an epoch, resumable at a batch index. */
export interface BatchSource {
  readonly numBatches: number;
  readonly batchSize: number;
  /** Batches of epoch `epoch` from batch `from`; the same (epoch, index) always gives the same batch. */
  epoch(epoch: number, from?: number): AsyncIterable<Batch>;
}

export interface BatchOptions {
  batchSize: number;
  shuffle: boolean;
  seed: number;
  /** Drop a last partial batch (training); keep it for evaluation. */
  dropLast?: boolean;
}

/**
 * Batches a dataset. The order of epoch `e` is a pure function of (seed, e), so resuming needs only
 * the epoch and batch index, and an interrupted run sees exactly the same batches as an uninterrupted one.
 */
export class BatchLoader implements BatchSource {
  private readonly lut: Float32Array[];
  readonly numBatches: number;

  constructor(
    readonly dataset: ImageDataset,
    readonly options: BatchOptions,
  ) {
    if (!Number.isInteger(options.batchSize) || options.batchSize < 1) {
      throw new RangeError(`batchSize must be a positive integer, got ${options.batchSize}`);
    }
    // Per-channel lookup table uint8 -> (v/255 - mean)/std: batch assembly is one table read per pixel.
    this.lut = Array.from({ length: dataset.channels }, (_, c) => {
      const t = new Float32Array(256);
      const mean = dataset.mean[c] ?? dataset.mean[0] ?? 0;
      const std = dataset.std[c] ?? dataset.std[0] ?? 1;
      for (let v = 0; v < 256; v++) t[v] = (v / 255 - mean) / std;
      return t;
    });
    const n = dataset.count;
    this.numBatches = options.dropLast ? Math.floor(n / options.batchSize) : Math.ceil(n / options.batchSize);
    if (this.numBatches < 1) {
      throw new RangeError(`${dataset.name}: ${n} images is less than one batch of ${options.batchSize}`);
    }
  }

  get batchSize(): number {
    return this.options.batchSize;
  }

  /** Sample order of an epoch. */
  order(epoch: number): Uint32Array {
    const idx = new Uint32Array(this.dataset.count);
    for (let i = 0; i < idx.length; i++) idx[i] = i;
    if (this.options.shuffle) new Rng((this.options.seed * 1000003 + epoch * 7919 + 1) >>> 0).shuffle(idx);
    return idx;
  }

  /** Builds batch `b` of an epoch from a precomputed order. */
  batch(order: Uint32Array, b: number): Batch {
    const { dataset: ds, options } = this;
    const start = b * options.batchSize;
    const size = Math.min(options.batchSize, ds.count - start);
    const c = ds.channels;
    const px = ds.height * ds.width * c;
    const x = new Float32Array(size * px);
    const y = new Int32Array(size);
    for (let i = 0; i < size; i++) {
      const r = order[start + i]!;
      const src = r * px;
      const dst = i * px;
      if (c === 1) {
        const lut = this.lut[0]!;
        for (let p = 0; p < px; p++) x[dst + p] = lut[ds.images[src + p]!]!;
      } else {
        for (let p = 0; p < px; p++) x[dst + p] = this.lut[p % c]![ds.images[src + p]!]!;
      }
      y[i] = ds.labels[r]!;
    }
    return { x, y, size, shape: [size, ds.height, ds.width, c] };
  }

  /** Batches of one epoch starting at batch `from`, each built one step ahead (see `prefetch`). */
  epoch(epoch: number, from = 0): AsyncIterable<Batch> {
    const order = this.order(epoch);
    const self = this;
    function* gen(): Generator<Batch> {
      for (let b = from; b < self.numBatches; b++) yield self.batch(order, b);
    }
    return prefetch(gen());
  }
}

/**
 * Keeps one item ready ahead of the consumer: the next batch is assembled on the event loop
 * (setImmediate) while the consumer awaits its training step, so the step never waits for data.
 */
export async function* prefetch<T>(source: Iterator<T>): AsyncGenerator<T> {
  const produce = (): Promise<IteratorResult<T>> =>
    new Promise((resolve, reject) =>
      setImmediate(() => {
        try {
          resolve(source.next());
        } catch (e) {
          reject(e);
        }
      }),
    );
  let pending = produce();
  try {
    for (;;) {
      const r = await pending;
      if (r.done) return;
      pending = produce();
      yield r.value;
    }
  } finally {
    pending.catch(() => undefined); // a consumer that stops early must not leave an unhandled rejection
  }
}
