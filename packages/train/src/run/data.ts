import type { Recipe } from '../recipe/schema.js';
import { loadFashionMnist, loadIdxDirectory, loadMnist, splitValidation, takeFirst, type ImageDataset } from '../data/datasets.js';
import { DataError } from '../errors.js';

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
  for (const [field, v] of [['data.mean', d.mean], ['data.std', d.std]] as const) {
    if (v && v.length !== tt.train.channels) {
      throw new DataError(`${field} has ${v.length} entries but ${tt.train.name} images have ${tt.train.channels} channel${tt.train.channels > 1 ? 's' : ''}`);
    }
  }
  if (tt.train.height !== m.imgSize || tt.train.width !== m.imgSize || tt.train.channels !== m.inChans) {
    throw new DataError(
      `${tt.train.name} images are ${tt.train.height}x${tt.train.width}x${tt.train.channels} but the model expects ${m.imgSize}x${m.imgSize}x${m.inChans} (model.imgSize / model.inChans)`,
    );
  }
  for (const s of [tt.train, tt.test]) checkLabels(s, m.numClasses);
  const pool = d.trainSubset > 0 ? takeFirst(tt.train, d.trainSubset) : tt.train;
  const test = d.testSubset > 0 ? takeFirst(tt.test, d.testSubset) : tt.test;
  if (d.valSize === 0) return nonEmpty({ train: pool, val: test, test });
  if (d.valSize >= pool.count) {
    throw new DataError(`data.valSize (${d.valSize}) leaves no training images: ${pool.name} has ${pool.count} (data.trainSubset ${d.trainSubset})`);
  }
  const { train, val } = splitValidation(pool, d.valSize, recipe.seed);
  return nonEmpty({ train, val, test });
}

/** Labels must lie in [0, model.numClasses) and the data's class count must match the model's. */
function checkLabels(ds: ImageDataset, numClasses: number): void {
  let max = -1;
  for (let i = 0; i < ds.labels.length; i++) if (ds.labels[i]! > max) max = ds.labels[i]!;
  if (max >= numClasses) {
    throw new DataError(`${ds.name} has label ${max}, outside [0, ${numClasses}) of model.numClasses = ${numClasses}; set model.numClasses=${ds.numClasses}`);
  }
  if (ds.numClasses !== numClasses) {
    throw new DataError(`model.numClasses is ${numClasses} but ${ds.name} has ${ds.numClasses} classes; set model.numClasses=${ds.numClasses}`);
  }
}

function nonEmpty(d: LoadedData): LoadedData {
  for (const [split, ds] of Object.entries(d) as Array<[string, ImageDataset]>) {
    if (ds.count === 0) throw new DataError(`the ${split} split (${ds.name}) is empty; check data.dir, data.trainSubset, data.testSubset and data.valSize`);
  }
  return d;
}

function requireDir(dir: string | null): string {
  if (!dir) throw new DataError("data.dataset 'idx' needs data.dir (a directory of train/t10k IDX files)");
  return dir;
}
