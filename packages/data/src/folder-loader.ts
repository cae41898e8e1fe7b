import { CounterDraws } from './draws.js';
import { DataError } from './errors.js';
import type { EvalTransformOptions } from './eval-transform.js';
import type { ImageFolder } from './image-folder.js';
import { mixParams, mixUint8Batch, mixupTargets, type MixupOptions } from './mixup.js';
import { normalizeInto, normalizeLUT, type NormalizeOptions } from './normalize.js';
import { randomErasing, type RandomErasingOptions } from './random-erasing.js';
import { epochOrder } from './sampler.js';
import type { TrainTransformOptions } from './train-transform.js';
import type { RGBImage } from './image.js';
import { createTransformPool, defaultWorkerCount, type TransformPool } from './worker-pool.js';

/** One batch: normalised NHWC floats, integer labels, and soft targets when mixup/cutmix or smoothing is on. */
export interface FolderBatch {
  x: Float32Array;
  y: Int32Array;
  /** [size, numClasses] mixed + smoothed targets (timm `mixup_target`), or undefined. */
  targets?: Float32Array;
  size: number;
  shape: [number, number, number, number];
}

export interface FolderLoaderOptions {
  batchSize: number;
  seed: number;
  /** 'train' = RRC/flip/RandAugment (+ erasing, mixup); 'eval' = resize + centre crop. */
  mode: 'train' | 'eval';
  shuffle?: boolean;
  dropLast?: boolean;
  train?: TrainTransformOptions;
  eval?: EvalTransformOptions;
  normalize?: NormalizeOptions;
  /** Applied to the normalised batch (OFQ: p 0.25, 'pixel'); null = off. */
  randomErasing?: RandomErasingOptions | null;
  /** Batch-mode mixup/cutmix on uint8 images before normalisation (timm FastCollateMixup); null = off. */
  mixup?: MixupOptions | null;
  /** Label smoothing without mixup: targets are smoothed one-hots. */
  labelSmoothing?: number;
  numClasses?: number;
  repeatedAug?: number;
  /** Worker threads (default one per core; 0 = on the calling thread). */
  workers?: number;
  /** Batches decoded ahead of the consumer (bounded queue). */
  prefetch?: number;
  /** Replace an unreadable image by the next readable one and count it, instead of failing. */
  skipCorrupt?: boolean;
}

/**
 * Batches of an `ImageFolder`. Image k of epoch e is transformed with draws that depend only on
 * (seed, e, k), the order only on (seed, e): resuming at batch b reproduces the same pixels.
 */
export class FolderLoader {
  private readonly pool: TransformPool;
  private readonly luts: Float32Array[];
  private readonly imgSize: number;
  /** Files replaced because they could not be read (with skipCorrupt). */
  readonly skipped = new Set<string>();

  constructor(
    readonly folder: ImageFolder,
    readonly options: FolderLoaderOptions,
  ) {
    if (!Number.isInteger(options.batchSize) || options.batchSize < 1) throw new DataError(`batchSize must be a positive integer, got ${options.batchSize}`);
    if (options.mixup && options.batchSize % 2 !== 0) throw new DataError(`mixup/cutmix needs an even batch size, got ${options.batchSize}`);
    this.imgSize = (options.mode === 'train' ? options.train?.imgSize : options.eval?.imgSize) ?? 224;
    this.luts = normalizeLUT(options.normalize);
    const spec = options.mode === 'train' ? { kind: 'train' as const, options: options.train ?? {}, seed: options.seed } : { kind: 'eval' as const, options: options.eval ?? {} };
    this.pool = createTransformPool(spec, options.workers ?? defaultWorkerCount());
  }

  get numClasses(): number {
    return this.options.numClasses ?? this.folder.classes.length;
  }

  /** Sample order of an epoch (repeated-augmentation aware). */
  order(epoch: number): Int32Array {
    const o = this.options;
    return epochOrder(this.folder.paths.length, epoch, { seed: o.seed, shuffle: o.shuffle ?? o.mode === 'train', repeats: o.repeatedAug });
  }

  numBatches(epoch = 0): number {
    const n = this.order(epoch).length;
    const b = this.options.dropLast ? Math.floor(n / this.options.batchSize) : Math.ceil(n / this.options.batchSize);
    if (b < 1) throw new DataError(`${this.folder.root}: ${n} images is less than one batch of ${this.options.batchSize}`);
    return b;
  }

  /** Image `index` (a dataset index) as slot `slot` of `epoch`; unreadable files fail or are replaced. */
  private async image(index: number, epoch: number, slot: number): Promise<{ img: RGBImage; label: number }> {
    const n = this.folder.paths.length;
    for (let tries = 0; tries < Math.min(n, 50); tries++) {
      const k = (index + tries) % n;
      try {
        return { img: await this.pool.run(this.folder.paths[k]!, { epoch, slot }), label: this.folder.labels[k]! };
      } catch (e) {
        if (!this.options.skipCorrupt) throw e;
        this.skipped.add(this.folder.paths[k]!);
      }
    }
    throw new DataError(`${this.folder.root}: 50 images in a row after ${this.folder.paths[index]} could not be read`);
  }

  private async batch(order: Int32Array, epoch: number, b: number): Promise<FolderBatch> {
    const o = this.options;
    const start = b * o.batchSize;
    const size = Math.min(o.batchSize, order.length - start);
    const s = this.imgSize;
    const px = s * s * 3;
    const imgs = await Promise.all(Array.from({ length: size }, (_, i) => this.image(order[start + i]!, epoch, start + i)));
    const u8 = new Uint8Array(size * px);
    const y = new Int32Array(size);
    imgs.forEach(({ img, label }, i) => {
      if (img.width !== s || img.height !== s) throw new DataError(`transform produced ${img.width}x${img.height}, expected ${s}x${s}`);
      u8.set(img.data, i * px);
      y[i] = label;
    });
    let targets: Float32Array | undefined;
    if (o.mode === 'train' && o.mixup) {
      const p = mixParams(s, s, new CounterDraws(o.seed, epoch, b, 2), o.mixup);
      mixUint8Batch(u8, size, s, s, p);
      targets = mixupTargets(y, o.mixup.numClasses, p.lam, o.mixup.labelSmoothing ?? 0);
    } else if (o.mode === 'train' && (o.labelSmoothing ?? 0) > 0) {
      targets = mixupTargets(y, this.numClasses, 1, o.labelSmoothing);
    }
    const x = new Float32Array(size * px);
    for (let i = 0; i < size; i++) normalizeInto({ width: s, height: s, data: u8.subarray(i * px, (i + 1) * px) }, this.luts, x, i * px);
    if (o.mode === 'train' && o.randomErasing) {
      for (let i = 0; i < size; i++) randomErasing(x, s, s, new CounterDraws(o.seed, epoch, start + i, 1), o.randomErasing, i * px);
    }
    return { x, y, targets, size, shape: [size, s, s, 3] };
  }

  /**
   * The batches of an epoch from batch `from`, with up to `prefetch` batches decoded ahead in the
   * workers (a bounded queue: memory stays at about prefetch × batch).
   */
  async *epoch(epoch: number, from = 0): AsyncGenerator<FolderBatch> {
    const order = this.order(epoch);
    const total = this.numBatches(epoch);
    const depth = Math.max(1, this.options.prefetch ?? 2);
    const queue: Promise<FolderBatch>[] = [];
    let next = from;
    const fill = (): void => {
      while (queue.length < depth && next < total) {
        const p = this.batch(order, epoch, next++);
        p.catch(() => {}); // surfaced when awaited below
        queue.push(p);
      }
    };
    fill();
    while (queue.length > 0) {
      const batch = await queue.shift()!;
      fill();
      yield batch;
    }
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}
