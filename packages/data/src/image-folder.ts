import { existsSync, readdirSync, statSync } from 'node:fs';
import { extname, join, relative } from 'node:path';
import { DataError } from './errors.js';

/** torchvision's `IMG_EXTENSIONS` (compared lower-case). */
export const IMAGE_EXTENSIONS = ['.jpg', '.jpeg', '.png', '.ppm', '.bmp', '.pgm', '.tif', '.tiff', '.webp'] as const;

/** One split of an ImageNet-style folder: `<root>/<class>/**\/<image>`. */
export interface ImageFolder {
  root: string;
  /** Class folder names, sorted; a class's index is its position here. */
  classes: string[];
  /** Image paths, grouped by class in class order, sorted within a class. */
  paths: string[];
  labels: Int32Array;
}

export interface ImageFolderOptions {
  /** Extensions to accept (lower-case, with the dot). Default `IMAGE_EXTENSIONS`. */
  extensions?: readonly string[];
  /** Use this class list (e.g. the train split's) instead of the folder's own; a missing class folder is an error. */
  classes?: string[];
}

/** Python's `sorted` on str: code point order (JS's default sort compares UTF-16 units). */
function byCodePoint(a: string, b: string): number {
  const x = [...a];
  const y = [...b];
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = x[i]!.codePointAt(0)! - y[i]!.codePointAt(0)!;
    if (d !== 0) return d;
  }
  return x.length - y.length;
}

/** Every directory below `dir` (itself included), recursively. */
function directories(dir: string, out: string[]): string[] {
  out.push(dir);
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p, { throwIfNoEntry: false })?.isDirectory() === true) directories(p, out);
  }
  return out;
}

/** torchvision's order: `sorted(os.walk(dir))` (directories by full path), files sorted within each. */
function walk(dir: string, accept: (name: string) => boolean, out: string[]): void {
  for (const d of directories(dir, []).sort(byCodePoint)) {
    for (const name of readdirSync(d).sort(byCodePoint)) {
      const p = join(d, name);
      if (accept(name) && statSync(p, { throwIfNoEntry: false })?.isFile() === true) out.push(p);
    }
  }
}

/**
 * Scans a folder with torchvision `ImageFolder` semantics: the sorted sub-directory names are the classes
 * (index = position), every file below a class directory with an image extension is a sample.
 */
export function scanImageFolder(root: string, options: ImageFolderOptions = {}): ImageFolder {
  if (!existsSync(root) || !statSync(root).isDirectory()) throw new DataError(`image folder not found: ${root}`);
  const own = readdirSync(root)
    .filter((n) => statSync(join(root, n), { throwIfNoEntry: false })?.isDirectory() === true)
    .sort(byCodePoint);
  const classes = options.classes ?? own;
  if (classes.length === 0) throw new DataError(`${root}: no class folders (expected ${root}/<class>/<image>)`);
  const exts = new Set((options.extensions ?? IMAGE_EXTENSIONS).map((e) => e.toLowerCase()));
  const accept = (name: string): boolean => exts.has(extname(name).toLowerCase());
  const paths: string[] = [];
  const labels: number[] = [];
  const empty: string[] = [];
  classes.forEach((cls, k) => {
    const dir = join(root, cls);
    if (!own.includes(cls)) throw new DataError(`${root}: class folder '${cls}' is missing`);
    const files: string[] = [];
    walk(dir, accept, files);
    if (files.length === 0) empty.push(cls);
    for (const f of files) {
      paths.push(f);
      labels.push(k);
    }
  });
  if (empty.length > 0) {
    const list = empty.slice(0, 5).join(', ') + (empty.length > 5 ? `, … (${empty.length})` : '');
    throw new DataError(`${root}: no image files (${[...exts].join(' ')}) in class folder(s) ${list}`);
  }
  return { root, classes, paths, labels: Int32Array.from(labels) };
}

/** The `train/` and `val/` splits of an ImageNet-format directory, val indexed by train's classes. */
export function scanImageNetFolder(dir: string, options: ImageFolderOptions = {}): { train: ImageFolder; val: ImageFolder } {
  const train = scanImageFolder(join(dir, 'train'), options);
  const val = scanImageFolder(join(dir, 'val'), { ...options, classes: train.classes });
  return { train, val };
}

/** A path relative to its folder, for messages. */
export function samplePath(folder: ImageFolder, index: number): string {
  return relative(folder.root, folder.paths[index]!);
}
