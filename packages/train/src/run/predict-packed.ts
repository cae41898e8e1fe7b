// `ofq predict`: test top-1 of a packed `.ofq` file, so a user can check that the shipped file
// reproduces the run's figure.
import { existsSync, readFileSync } from 'node:fs';
import { loadPackedModelSync } from '@ofq/runtime';
import { loadFashionMnist, loadIdxDirectory, loadMnist, takeFirst, type ImageDataset } from '../data/datasets.js';
import { DataError } from '../data/idx.js';
import { BatchLoader } from '../data/batches.js';
import { top1 } from './evaluate.js';
import type { ProgressSink } from './progress.js';

export interface PredictPackedOptions {
  /** 'mnist', 'fashion-mnist', or a directory of IDX files (t10k-* is used). */
  data: string;
  /** First N test images only (0 or absent: all). */
  subset?: number;
  batchSize?: number;
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
  throw new DataError(`--data must be mnist, fashion-mnist or an IDX directory, got '${data}'`);
}

export async function predictPacked(path: string, o: PredictPackedOptions): Promise<PredictPackedResult> {
  if (!existsSync(path)) throw new DataError(`packed model not found: ${path}`);
  const bytes = new Uint8Array(readFileSync(path));
  const packed = loadPackedModelSync(bytes);
  try {
    let ds = testSet(o.data);
    if (o.subset && o.subset > 0) ds = takeFirst(ds, o.subset);
    // The file's preprocessing wins over the dataset's default.
    if (packed.file.input) ds = { ...ds, mean: packed.file.input.mean, std: packed.file.input.std };
    const c = packed.config;
    if (ds.height !== c.imgSize || ds.width !== c.imgSize || ds.channels !== c.inChans) {
      throw new DataError(`${ds.name} images are ${ds.height}x${ds.width}x${ds.channels}, the packed model expects ${c.imgSize}x${c.imgSize}x${c.inChans}`);
    }
    const loader = new BatchLoader(ds, { batchSize: o.batchSize ?? 500, shuffle: false, seed: 0 });
    const acc = await top1(packed, loader, o.progress, 'predict');
    const recorded = packed.file.info?.testTop1;
    return { top1: acc, images: ds.count, recordedTop1: typeof recorded === 'number' ? recorded : null, bytes: bytes.byteLength };
  } finally {
    packed.dispose();
  }
}
