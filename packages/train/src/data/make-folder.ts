import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createImage, encodeJPEG, resizePIL } from '@ofq/data';
import { loadFashionMnist, loadMnist, type ImageDataset } from './datasets.js';
import { DataError } from './idx.js';

/** Fashion-MNIST's class names; folders are prefixed with the label so that sorted names keep the label order. */
export const FASHION_MNIST_CLASSES = ['t-shirt', 'trouser', 'pullover', 'dress', 'coat', 'sandal', 'shirt', 'sneaker', 'bag', 'ankle-boot'];

export interface MakeFolderOptions {
  from: 'fashion-mnist' | 'mnist';
  /** Output side in pixels (PIL bicubic upscaling of the 28x28 digits). */
  size: number;
  out: string;
  /** At most this many images per split (the first ones; 0 = all). */
  limit?: number;
  /** IDX directory (default: the installed data set). */
  dir?: string;
  quality?: number;
  log?: (line: string) => void;
}

export interface MakeFolderResult {
  classes: string[];
  train: number;
  val: number;
}

function classNames(from: MakeFolderOptions['from']): string[] {
  return from === 'mnist' ? Array.from({ length: 10 }, (_, k) => String(k)) : FASHION_MNIST_CLASSES.map((n, k) => `${k}-${n}`);
}

async function writeSplit(ds: ImageDataset, dir: string, classes: string[], o: MakeFolderOptions): Promise<number> {
  const n = o.limit && o.limit > 0 ? Math.min(o.limit, ds.count) : ds.count;
  for (const c of classes) mkdirSync(join(dir, c), { recursive: true });
  const px = ds.height * ds.width;
  const one = async (i: number): Promise<void> => {
    const rgb = createImage(ds.width, ds.height);
    for (let p = 0; p < px; p++) rgb.data[p * 3] = rgb.data[p * 3 + 1] = rgb.data[p * 3 + 2] = ds.images[i * px + p]!;
    const img = o.size === ds.width && o.size === ds.height ? rgb : resizePIL(rgb, o.size, o.size, 'bicubic');
    writeFileSync(join(dir, classes[ds.labels[i]!]!, `${String(i).padStart(5, '0')}.jpg`), await encodeJPEG(img, o.quality ?? 90));
  };
  for (let start = 0; start < n; start += 64) {
    await Promise.all(Array.from({ length: Math.min(64, n - start) }, (_, k) => one(start + k)));
    if ((start / 64) % 100 === 99) o.log?.(`  ${dir}: ${start + 64}/${n}`);
  }
  return n;
}

/**
 * Writes an ImageNet-format folder (`train/<class>/*.jpg`, `val/<class>/*.jpg`) from an IDX data set that
 * installs offline, so the image-folder pipeline can be run end to end without ImageNet.
 */
export async function makeImageFolder(o: MakeFolderOptions): Promise<MakeFolderResult> {
  if (o.from !== 'fashion-mnist' && o.from !== 'mnist') throw new DataError(`--from must be fashion-mnist or mnist, got '${String(o.from)}'`);
  if (!Number.isInteger(o.size) || o.size < 8 || o.size > 1024) throw new DataError(`--size must be an integer in [8, 1024], got ${o.size}`);
  const data = o.from === 'mnist' ? loadMnist(o.dir) : loadFashionMnist(o.dir);
  const classes = classNames(o.from);
  const train = await writeSplit(data.train, join(o.out, 'train'), classes, o);
  const val = await writeSplit(data.test, join(o.out, 'val'), classes, o);
  return { classes, train, val };
}
