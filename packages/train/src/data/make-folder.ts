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
  /**
   * At most this many images per split (0 = all), taken round-robin over the classes in index order
   * (each class's first images), so that every class folder gets an image: ImageFolder readers refuse
   * an empty class folder. Must be at least the number of classes.
   */
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

/** The images a split keeps: all, or `limit` of them round-robin over the classes (index order within a class). */
function limitedIndices(labels: ArrayLike<number>, numClasses: number, limit: number): number[] {
  if (!limit || limit >= labels.length) return Array.from({ length: labels.length }, (_, i) => i);
  const byClass: number[][] = Array.from({ length: numClasses }, () => []);
  for (let i = 0; i < labels.length; i++) byClass[labels[i]!]!.push(i);
  const picked: number[] = [];
  for (let r = 0; picked.length < limit; r++) {
    for (const c of byClass) if (r < c.length && picked.length < limit) picked.push(c[r]!);
  }
  return picked.sort((a, b) => a - b);
}

async function writeSplit(ds: ImageDataset, dir: string, classes: string[], o: MakeFolderOptions): Promise<number> {
  const indices = limitedIndices(ds.labels, classes.length, o.limit ?? 0);
  const n = indices.length;
  for (const c of classes) mkdirSync(join(dir, c), { recursive: true });
  const px = ds.height * ds.width;
  const one = async (i: number): Promise<void> => {
    const rgb = createImage(ds.width, ds.height);
    for (let p = 0; p < px; p++) rgb.data[p * 3] = rgb.data[p * 3 + 1] = rgb.data[p * 3 + 2] = ds.images[i * px + p]!;
    const img = o.size === ds.width && o.size === ds.height ? rgb : resizePIL(rgb, o.size, o.size, 'bicubic');
    writeFileSync(join(dir, classes[ds.labels[i]!]!, `${String(i).padStart(5, '0')}.jpg`), await encodeJPEG(img, o.quality ?? 90));
  };
  for (let start = 0; start < n; start += 64) {
    await Promise.all(indices.slice(start, start + 64).map(one));
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
  if (o.limit && o.limit > 0 && o.limit < classes.length) {
    throw new DataError(`--limit ${o.limit} would leave class folders empty: it must be at least the ${classes.length} classes (or 0 for all images)`);
  }
  const train = await writeSplit(data.train, join(o.out, 'train'), classes, o);
  const val = await writeSplit(data.test, join(o.out, 'val'), classes, o);
  return { classes, train, val };
}
