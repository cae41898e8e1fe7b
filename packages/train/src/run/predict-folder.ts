// `ofq predict --data <folder>`: the val split of an ImageNet-format folder, labelled by the packed
// model's class names (`ofq.input.labels`) and transformed with the eval preprocessing recorded in it.
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { FolderLoader, scanImageFolder, type ImageFolder, type Interpolation } from '@ofq/data';
import type { PackedInput } from '@ofq/runtime';
import { DataError } from '../data/idx.js';
import { FolderSource } from './data-sources.js';

/** The eval-transform fields an image-folder run adds to `ofq.input` (docs/packed-format.md). */
export interface FolderInput extends PackedInput {
  imgSize?: number;
  cropPct?: number;
  resize?: number;
  interpolation?: Interpolation;
  normalize?: 'prefetcher' | 'torchvision';
}

export interface FolderTestOptions {
  /** Image side, channels and classes of the packed model. */
  imgSize: number;
  inChans: number;
  numClasses: number;
  batchSize: number;
  /** First N images (in path order) only; 0 = all. */
  subset?: number;
  /** Decoding threads (default one per core; 0 = on the calling thread). */
  workers?: number;
}

/** True when `dir` is an ImageNet-format folder (has `val/`). */
export function isImageNetFolder(dir: string): boolean {
  return statSync(join(dir, 'val'), { throwIfNoEntry: false })?.isDirectory() === true;
}

/** `<dir>/val` with each class folder's label set to its index in the model's `labels`. */
export function labelledValFolder(dir: string, labels: readonly string[]): ImageFolder {
  const val = scanImageFolder(join(dir, 'val'));
  const index = val.classes.map((name) => {
    const k = labels.indexOf(name);
    if (k < 0) throw new DataError(`${val.root}: class '${name}' is not one of the packed model's ${labels.length} classes (ofq.input.labels)`);
    return k;
  });
  return { ...val, classes: [...labels], labels: Int32Array.from(val.labels, (l) => index[l]!) };
}

/** The folder's val images as eval batches for a packed model; `close()` stops its workers. */
export function openFolderTest(dir: string, input: FolderInput | undefined, o: FolderTestOptions): { source: FolderSource; count: number; close(): Promise<void> } {
  if (!existsSync(dir)) throw new DataError(`data directory not found: ${dir}`);
  if (!input?.labels) throw new DataError(`the packed model has no class names (ofq.input.labels): it cannot be evaluated on the image folder ${dir}`);
  if (o.inChans !== 3) throw new DataError(`image folders are decoded to RGB; the packed model expects ${o.inChans} channels`);
  const size = input.imgSize ?? o.imgSize;
  if (size !== o.imgSize) throw new DataError(`ofq.input.imgSize ${size} differs from the packed model's imgSize ${o.imgSize}`);
  let folder = labelledValFolder(dir, input.labels);
  if (o.subset && o.subset > 0) folder = { ...folder, paths: folder.paths.slice(0, o.subset), labels: folder.labels.slice(0, o.subset) };
  const loader = new FolderLoader(folder, {
    batchSize: o.batchSize,
    seed: 0,
    mode: 'eval',
    eval: { imgSize: size, cropPct: input.cropPct, scaleSize: input.resize, interpolation: input.interpolation },
    normalize: { mean: input.mean, std: input.std, formula: input.normalize },
    numClasses: o.numClasses,
    workers: o.workers,
  });
  return { source: new FolderSource(loader), count: folder.paths.length, close: () => loader.close() };
}
