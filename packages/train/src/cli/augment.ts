import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import {
  applyRandAugmentOp,
  CounterDraws,
  createImage,
  createTrainTransform,
  decodeImage,
  encodePNG,
  evalTransform,
  type Interpolation,
  type RGBImage,
} from '@ofq/data';
import { UsageError, type ParsedArgs } from './args.js';

export const AUGMENT_USAGE = `usage:
  ofq augment <image> [--transform train|eval|none] [--size 224] [--crop-pct 0.875]
              [--rand-augment rand-m9-mstd0.5-inc1] [--seed 0] [--draws N]
              [--op NAME --magnitude M [--sign +|-] [--resample bilinear|bicubic]] [--out file.png]

Writes what the model is fed (before normalisation): the train transform (RandomResizedCrop, flip,
RandAugment; N draws make a contact sheet), the eval transform (resize + centre crop), or one RandAugment
op applied to the eval crop (or to the image itself with --transform none).`;

/** Tiles equally sized images in a near-square grid with a 2-pixel white gutter. */
function contactSheet(images: RGBImage[]): RGBImage {
  const cols = Math.ceil(Math.sqrt(images.length));
  const rows = Math.ceil(images.length / cols);
  const { width: w, height: h } = images[0]!;
  const gap = 2;
  const sheet = createImage(cols * (w + gap) - gap, rows * (h + gap) - gap);
  sheet.data.fill(255);
  images.forEach((img, k) => {
    const x0 = (k % cols) * (w + gap);
    const y0 = Math.floor(k / cols) * (h + gap);
    for (let y = 0; y < h; y++) sheet.data.set(img.data.subarray(y * w * 3, (y + 1) * w * 3), ((y0 + y) * sheet.width + x0) * 3);
  });
  return sheet;
}

function numberOption(args: ParsedArgs, key: string, dflt: number): number {
  const v = args.options[key];
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new UsageError(`--${key} must be a number, got '${String(v)}'`);
  return n;
}

function choice<T extends string>(args: ParsedArgs, key: string, allowed: readonly T[], dflt: T): T {
  const v = args.options[key] ?? dflt;
  if (!allowed.includes(v as T)) throw new UsageError(`--${key} must be one of ${allowed.join(', ')}, got '${String(v)}'`);
  return v as T;
}

/** `ofq augment <image>`: writes the transformed image (PNG) and prints its path. */
export async function augmentCommand(args: ParsedArgs, out: (s: string) => void): Promise<number> {
  const file = args.positionals[0];
  if (!file) throw new UsageError(`ofq augment needs an image file\n${AUGMENT_USAGE}`);
  const op = typeof args.options.op === 'string' ? args.options.op : undefined;
  const transform = choice(args, 'transform', ['train', 'eval', 'none'] as const, op ? 'eval' : 'train');
  const size = numberOption(args, 'size', 224);
  const cropPct = numberOption(args, 'crop-pct', 0.875);
  const seed = numberOption(args, 'seed', 0);
  const draws = numberOption(args, 'draws', 1);
  if (!Number.isInteger(draws) || draws < 1 || draws > 256) throw new UsageError(`--draws must be an integer in [1, 256], got ${draws}`);
  const img = await decodeImage(resolve(file));
  let result: RGBImage;
  if (op) {
    if (transform === 'train') throw new UsageError('--op shows one op on the eval crop (--transform eval) or on the image (--transform none)');
    const base = transform === 'eval' ? evalTransform(img, { imgSize: size, cropPct }) : img;
    const sign = choice(args, 'sign', ['+', '-'] as const, '+') === '-' ? -1 : 1;
    const resample = choice(args, 'resample', ['bilinear', 'bicubic'] as const, 'bilinear') as Interpolation;
    result = applyRandAugmentOp(base, op, { magnitude: numberOption(args, 'magnitude', 9), sign, resample });
  } else if (transform === 'eval') {
    result = evalTransform(img, { imgSize: size, cropPct });
  } else if (transform === 'none') {
    result = img;
  } else {
    const ra = typeof args.options['rand-augment'] === 'string' ? args.options['rand-augment'] : 'rand-m9-mstd0.5-inc1';
    const t = createTrainTransform({ imgSize: size, randAugment: ra === 'none' ? null : ra });
    const views = Array.from({ length: draws }, (_, k) => t.apply(img, new CounterDraws(seed, 0, k)));
    result = draws === 1 ? views[0]! : contactSheet(views);
  }
  const target = resolve(typeof args.options.out === 'string' ? args.options.out : 'augmented.png');
  writeFileSync(target, await encodePNG(result));
  out(`${target} (${result.width}x${result.height})`);
  return 0;
}
