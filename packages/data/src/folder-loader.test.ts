import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeJPEG, encodePNG } from './decode.js';
import { evalTransform } from './eval-transform.js';
import { FolderLoader, type FolderBatch, type FolderLoaderOptions } from './folder-loader.js';
import { scanImageFolder } from './image-folder.js';
import { resizePIL } from './pil-resize.js';
import { normalizeInto, normalizeLUT } from './normalize.js';
import { epochOrder } from './sampler.js';
import { goldenSource } from './golden-testing.js';
import { decodeImage } from './decode.js';

const root = mkdtempSync(join(tmpdir(), 'ofq-loader-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

beforeAll(async () => {
  const names = ['astronaut', 'coffee', 'rocket_portrait', 'chelsea_small'];
  for (let k = 0; k < 12; k++) {
    const src = await goldenSource(names[k % 4]!);
    const img = resizePIL(src, 48 + (k % 3) * 8, 40 + (k % 2) * 16, 'bilinear');
    const cls = ['ant', 'bee', 'cat'][k % 3]!;
    mkdirSync(join(root, 'ok', cls), { recursive: true });
    writeFileSync(join(root, 'ok', cls, `${k}.${k % 4 === 0 ? 'png' : 'jpg'}`), k % 4 === 0 ? await encodePNG(img) : await encodeJPEG(img));
  }
});

const trainOpts = (o: Partial<FolderLoaderOptions> = {}): FolderLoaderOptions => ({
  batchSize: 4,
  seed: 5,
  mode: 'train',
  train: { imgSize: 32, randAugment: 'rand-m9-mstd0.5-inc1' },
  randomErasing: { probability: 0.5, mode: 'pixel' },
  mixup: { mixupAlpha: 0.8, cutmixAlpha: 1, labelSmoothing: 0.1, numClasses: 3 },
  workers: 0,
  ...o,
});

async function collect(it: AsyncIterable<FolderBatch>): Promise<FolderBatch[]> {
  const out: FolderBatch[] = [];
  for await (const b of it) out.push(b);
  return out;
}

describe('FolderLoader', () => {
  it('eval batches are the normalised eval transform of each file, in folder order', async () => {
    const folder = scanImageFolder(join(root, 'ok'));
    const loader = new FolderLoader(folder, { batchSize: 5, seed: 0, mode: 'eval', eval: { imgSize: 32, cropPct: 0.875 }, workers: 0 });
    const batches = await collect(loader.epoch(0));
    expect(batches.map((b) => b.size)).toEqual([5, 5, 2]);
    const want = evalTransform(await decodeImage(folder.paths[6]!), { imgSize: 32, cropPct: 0.875 });
    const x = new Float32Array(32 * 32 * 3);
    normalizeInto(want, normalizeLUT(), x);
    expect(Array.from(batches[1]!.x.subarray(32 * 32 * 3, 2 * 32 * 32 * 3))).toEqual(Array.from(x));
    expect(Array.from(batches[1]!.y)).toEqual(Array.from(folder.labels.subarray(5, 10)));
    expect(batches[0]!.targets).toBeUndefined();
  });

  it('worker threads and the calling thread give the same pixels; resuming at batch 2 repeats batches 2..', async () => {
    const folder = scanImageFolder(join(root, 'ok'));
    const inProc = new FolderLoader(folder, trainOpts());
    const threaded = new FolderLoader(folder, trainOpts({ workers: 2, prefetch: 2 }));
    try {
      const a = await collect(inProc.epoch(3));
      const b = await collect(threaded.epoch(3));
      const resumed = await collect(inProc.epoch(3, 2));
      expect(a.length).toBe(3);
      expect(b.map((x) => Array.from(x.x))).toEqual(a.map((x) => Array.from(x.x)));
      expect(resumed.map((x) => Array.from(x.x))).toEqual(a.slice(2).map((x) => Array.from(x.x)));
      expect(Array.from(a[0]!.targets!).length).toBe(4 * 3);
      const other = await collect(inProc.epoch(4));
      expect(Array.from(other[0]!.x)).not.toEqual(Array.from(a[0]!.x));
    } finally {
      await threaded.close();
    }
  });

  it('a corrupt file is an error naming it, or a counted skip when opted in', async () => {
    mkdirSync(join(root, 'bad', 'a'), { recursive: true });
    mkdirSync(join(root, 'bad', 'b'), { recursive: true });
    const good = await encodeJPEG(resizePIL(await goldenSource('coffee'), 40, 30, 'bilinear'));
    writeFileSync(join(root, 'bad', 'a', '1.jpg'), good);
    writeFileSync(join(root, 'bad', 'a', '2.jpg'), good.subarray(0, 300));
    writeFileSync(join(root, 'bad', 'b', '3.jpg'), good);
    writeFileSync(join(root, 'bad', 'b', '4.jpg'), good);
    const folder = scanImageFolder(join(root, 'bad'));
    const strict = new FolderLoader(folder, { batchSize: 4, seed: 0, mode: 'eval', eval: { imgSize: 24 }, workers: 1 });
    await expect(collect(strict.epoch(0))).rejects.toThrow(/cannot decode image .*bad\/a\/2\.jpg/);
    await strict.close();
    const lenient = new FolderLoader(folder, { batchSize: 4, seed: 0, mode: 'eval', eval: { imgSize: 24 }, workers: 0, skipCorrupt: true });
    const [b] = await collect(lenient.epoch(0));
    expect([...lenient.skipped].map((p) => p.slice(root.length))).toEqual(['/bad/a/2.jpg']);
    expect(Array.from(b!.y)).toEqual([0, 1, 1, 1]); // slot 1 took the next readable file (b/3.jpg)
  });
});

describe('epochOrder', () => {
  it('is a permutation fixed by (seed, epoch); repeated augmentation repeats each index r times and keeps floor(n/256)*256', () => {
    const a = epochOrder(1000, 2, { seed: 1, shuffle: true });
    expect([...a].sort((x, y) => x - y)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    expect(Array.from(epochOrder(1000, 2, { seed: 1, shuffle: true }))).toEqual(Array.from(a));
    expect(Array.from(epochOrder(1000, 3, { seed: 1, shuffle: true }))).not.toEqual(Array.from(a));
    const r = epochOrder(1000, 2, { seed: 1, shuffle: true, repeats: 3 });
    expect(r.length).toBe(768);
    expect(Array.from(r.subarray(0, 6))).toEqual([a[0], a[0], a[0], a[1], a[1], a[1]]);
    expect(() => epochOrder(100, 0, { seed: 1, shuffle: false, repeats: 3 })).toThrow(/repeated augmentation keeps/);
  });
});
