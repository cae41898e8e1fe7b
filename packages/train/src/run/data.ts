import type { Recipe } from '../recipe/schema.js';
import { loadFashionMnist, loadIdxDirectory, loadMnist, splitValidation, takeFirst, type ImageDataset } from '../data/datasets.js';
import { DataError } from '../data/idx.js';

export interface LoadedData {
  train: ImageDataset;
  val: ImageDataset;
  test: ImageDataset;
}

/** Loads the recipe's dataset, applies the subset budget and carves the held-out validation split. */
export function loadData(recipe: Recipe): LoadedData {
  const d = recipe.data;
  const tt =
    d.dataset === 'mnist'
      ? loadMnist(d.dir ?? undefined)
      : d.dataset === 'fashion-mnist'
        ? loadFashionMnist(d.dir ?? undefined)
        : d.dataset === 'idx'
          ? loadIdxDirectory(requireDir(d.dir), 'idx')
          : (() => {
              throw new DataError(`dataset '${d.dataset}' is not loadable by this version`);
            })();
  if (d.mean) for (const s of [tt.train, tt.test]) s.mean = d.mean;
  if (d.std) for (const s of [tt.train, tt.test]) s.std = d.std;
  const m = recipe.model;
  if (tt.train.height !== m.imgSize || tt.train.width !== m.imgSize || tt.train.channels !== m.inChans) {
    throw new DataError(
      `${tt.train.name} images are ${tt.train.height}x${tt.train.width}x${tt.train.channels} but the model expects ${m.imgSize}x${m.imgSize}x${m.inChans} (model.imgSize / model.inChans)`,
    );
  }
  const pool = d.trainSubset > 0 ? takeFirst(tt.train, d.trainSubset) : tt.train;
  const test = d.testSubset > 0 ? takeFirst(tt.test, d.testSubset) : tt.test;
  if (d.valSize === 0) return { train: pool, val: test, test };
  const { train, val } = splitValidation(pool, d.valSize, recipe.seed);
  return { train, val, test };
}

function requireDir(dir: string | null): string {
  if (!dir) throw new DataError("data.dataset 'idx' needs data.dir (a directory of train/t10k IDX files)");
  return dir;
}
