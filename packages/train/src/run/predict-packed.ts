// `ofq predict`: test top-1 of a packed `.ofq` file, so a user can check that the shipped file
// reproduces the run's figure.
import { existsSync, readFileSync } from 'node:fs';
import { loadPackedModelSync } from '@ofq/runtime';
import { loadFashionMnist, loadIdxDirectory, loadMnist, takeFirst, type ImageDataset } from '../data/datasets.js';
import { DataError } from '../data/idx.js';
import { BatchLoader } from '../data/batches.js';
import { top1 } from './evaluate.js';
import type { ProgressSink } from './progress.js';
import { isImageNetFolder, openFolderTest, type FolderInput } from './predict-folder.js';

export interface PredictPackedOptions {
  /**
   * 'mnist', 'fashion-mnist', a directory of IDX files (t10k-* is used), or an ImageNet-format folder
   * (its `val/<class>/…` images, labelled through the file's class names `ofq.input.labels`).
   */
  data: string;
  /** First N test images only (0 or absent: all). */
  subset?: number;
  batchSize?: number;
  /** Image folders: decoding threads (default one per core; 0 = on the calling thread). */
  workers?: number;
  progress?: ProgressSink;
}

export interface PredictPackedResult {
  top1: number;
  images: number;
  /** The run's own test figure recorded in the file, when present. */
  recordedTop1: number | null;
  bytes: number;
}

function testSet(data: string): ImageDataset {
  if (data === 'mnist') return loadMnist().test;
  if (data === 'fashion-mnist') return loadFashionMnist().test;
  if (existsSync(data)) return loadIdxDirectory(data).test;
  throw new DataError(`--data must be mnist, fashion-mnist, an IDX directory or an image folder with val/, got '${data}'`);
}

export async function predictPacked(path: string, o: PredictPackedOptions): Promise<PredictPackedResult> {
  if (!existsSync(path)) throw new DataError(`packed model not found: ${path}`);
  const bytes = new Uint8Array(readFileSync(path));
  const packed = loadPackedModelSync(bytes);
  try {
    const recorded = packed.file.info?.testTop1;
    const recordedTop1 = typeof recorded === 'number' ? recorded : null;
    const c = packed.config;
    if (existsSync(o.data) && isImageNetFolder(o.data)) {
      const input = packed.file.input as FolderInput | undefined;
      const t = openFolderTest(o.data, input, { imgSize: c.imgSize, inChans: c.inChans, numClasses: c.numClasses, batchSize: o.batchSize ?? 100, subset: o.subset, workers: o.workers });
      try {
        const acc = await top1(packed, t.source, o.progress, 'predict');
        return { top1: acc, images: t.count, recordedTop1, bytes: bytes.byteLength };
      } finally {
        await t.close();
      }
    }
    let ds = testSet(o.data);
    if (o.subset && o.subset > 0) ds = takeFirst(ds, o.subset);
    // The file's preprocessing wins over the dataset's default.
    if (packed.file.input) ds = { ...ds, mean: packed.file.input.mean, std: packed.file.input.std };
    if (ds.height !== c.imgSize || ds.width !== c.imgSize || ds.channels !== c.inChans) {
      throw new DataError(`${ds.name} images are ${ds.height}x${ds.width}x${ds.channels}, the packed model expects ${c.imgSize}x${c.imgSize}x${c.inChans}`);
    }
    const loader = new BatchLoader(ds, { batchSize: o.batchSize ?? 500, shuffle: false, seed: 0 });
    const acc = await top1(packed, loader, o.progress, 'predict');
    return { top1: acc, images: ds.count, recordedTop1, bytes: bytes.byteLength };
  } finally {
    packed.dispose();
  }
}
