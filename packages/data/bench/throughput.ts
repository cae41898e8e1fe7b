// Throughput of the @ofq/data train and eval pipelines next to PyTorch's DataLoader (2 workers,
// torchvision ImageFolder, the same timm chain in PIL: throughput.py), interleaved in one run, plus the
// loader's resident memory over many images. Writes bench/results/throughput-<date-time>.json.
//
//   pnpm --filter @ofq/data bench [-- --images 1536 --rounds 3 --rss-images 10000 --workers 2]
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { FolderLoader, scanImageFolder, type FolderLoaderOptions } from '../src/index.js';

const here = dirname(fileURLToPath(import.meta.url));
const arg = (k: string, d: number): number => {
  const i = process.argv.indexOf(`--${k}`);
  return i > 0 ? Number(process.argv[i + 1]) : d;
};
const IMAGES = arg('images', 1536);
const ROUNDS = arg('rounds', 3);
const RSS_IMAGES = arg('rss-images', 10000);
const WORKERS = arg('workers', availableParallelism());
const BATCH = 64;
const PY = '/usr/bin/python3';

/** ≈500x375 JPEGs (q90, 4:2:0) cut from Debian python3-skimage's colour photos: 10 classes x 50. */
async function makeFolder(dir: string): Promise<void> {
  if (existsSync(join(dir, 'c9'))) return;
  const src = '/usr/lib/python3/dist-packages/skimage/data';
  const photos: string[] = [];
  for (const f of readdirSync(src).filter((f) => /\.(png|jpg)$/.test(f))) {
    try {
      const { info } = await sharp(join(src, f), { failOn: 'warning' }).raw().toBuffer({ resolveWithObject: true });
      if (info.channels >= 3 && info.width >= 300 && info.height >= 300) photos.push(join(src, f));
    } catch {
      // a few files of the package do not decode cleanly; they are left out
    }
  }
  if (photos.length === 0) throw new Error(`no colour photos in ${src}: apt-get install -y python3-skimage`);
  for (let k = 0; k < 500; k++) {
    const cls = join(dir, `c${k % 10}`);
    mkdirSync(cls, { recursive: true });
    const portrait = k % 4 === 3;
    const [w, h] = portrait ? [375, 500] : [500, 375];
    const p = photos[k % photos.length]!;
    const m = await sharp(p).metadata();
    // a different crop of the photo per image, then resized to the ImageNet-typical size
    const cw = Math.floor(m.width! * (0.6 + 0.4 * (((k * 37) % 10) / 10)));
    const ch = Math.floor(m.height! * (0.6 + 0.4 * (((k * 53) % 10) / 10)));
    const left = Math.floor(((m.width! - cw) * ((k * 17) % 7)) / 6);
    const top = Math.floor(((m.height! - ch) * ((k * 29) % 5)) / 4);
    await sharp(p).removeAlpha().extract({ left, top, width: cw, height: ch }).resize(w, h, { fit: 'fill' }).jpeg({ quality: 90, chromaSubsampling: '4:2:0' }).toFile(join(cls, `${k}.jpg`));
  }
}

async function jsRun(dir: string, mode: 'train' | 'eval', images: number, sampleRss = false): Promise<Record<string, number>> {
  const folder = scanImageFolder(dir);
  const o: FolderLoaderOptions = {
    batchSize: BATCH,
    seed: 1,
    mode,
    dropLast: true,
    workers: WORKERS,
    prefetch: 2,
    train: { randAugment: 'rand-m9-mstd0.5-inc1' },
    eval: { cropPct: 0.9 },
    randomErasing: { probability: 0.25, mode: 'pixel' },
  };
  const loader = new FolderLoader(folder, o);
  let seen = 0;
  let t0 = 0;
  let first = 0;
  const rss: number[] = [];
  try {
    for (let epoch = 0; seen < images; epoch++) {
      for await (const b of loader.epoch(epoch)) {
        if (t0 === 0) ((t0 = performance.now()), (first = b.size)); // start-up excluded, as in throughput.py
        seen += b.size;
        if (sampleRss) rss.push(process.memoryUsage().rss);
        if (seen >= images) break;
      }
    }
  } finally {
    await loader.close();
  }
  const secs = (performance.now() - t0) / 1000;
  const out: Record<string, number> = { images: seen - first, seconds: secs, images_per_sec: (seen - first) / secs };
  if (sampleRss) {
    const mb = (v: number) => Math.round(v / 2 ** 20);
    const tenth = Math.max(1, Math.floor(rss.length / 10));
    out.rss_max_mb = mb(Math.max(...rss));
    out.rss_first_tenth_max_mb = mb(Math.max(...rss.slice(0, tenth)));
    out.rss_last_tenth_max_mb = mb(Math.max(...rss.slice(-tenth)));
  }
  return out;
}

function pyRun(dir: string, mode: 'train' | 'eval', images: number): Record<string, number> {
  const r = spawnSync(PY, [join(here, 'throughput.py'), dir, mode, String(images), String(BATCH), '2'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`throughput.py failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!);
}

const median = (v: number[]): number => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!;

async function main(): Promise<void> {
  const dir = join(here, '.cache', 'folder-500x375');
  await makeFolder(dir);
  const rounds: Record<string, unknown>[] = [];
  const load: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    for (const mode of ['train', 'eval'] as const) {
      load.push(loadavg()[0]!);
      const js = await jsRun(dir, mode, IMAGES);
      const py = pyRun(dir, mode, IMAGES);
      rounds.push({ round: r, mode, js, py, ratio: js.images_per_sec! / py.images_per_sec! });
      console.log(`${mode} round ${r}: @ofq/data ${js.images_per_sec!.toFixed(1)} img/s · PyTorch ${py.images_per_sec!.toFixed(1)} img/s · ratio ${(js.images_per_sec! / py.images_per_sec!).toFixed(2)}`);
    }
  }
  const summary = (mode: string) => {
    const rs = rounds.filter((r) => r.mode === mode) as { js: { images_per_sec: number }; py: { images_per_sec: number }; ratio: number }[];
    return { js_images_per_sec: median(rs.map((r) => r.js.images_per_sec)), py_images_per_sec: median(rs.map((r) => r.py.images_per_sec)), ratio_median: median(rs.map((r) => r.ratio)) };
  };
  const memory = RSS_IMAGES > 0 ? await jsRun(dir, 'train', RSS_IMAGES, true) : null;
  if (memory) console.log(`memory over ${memory.images} train images: RSS max ${memory.rss_max_mb} MB (first tenth ${memory.rss_first_tenth_max_mb}, last tenth ${memory.rss_last_tenth_max_mb})`);
  const result = {
    date: new Date().toISOString(),
    loadavg_1min_during_rounds: load,
    uptime: spawnSync('uptime', { encoding: 'utf8' }).stdout.trim(),
    cores: availableParallelism(),
    setup: { images_per_round: IMAGES, rounds: ROUNDS, batch: BATCH, js_workers: WORKERS, py_dataloader_workers: 2, prefetch: 2, folder: '500 JPEGs ≈500x375 q90 from python3-skimage photos, 10 classes' },
    train: summary('train'),
    eval: summary('eval'),
    rounds,
    memory,
  };
  mkdirSync(join(here, 'results'), { recursive: true });
  const file = join(here, 'results', `throughput-${result.date.slice(0, 16).replace(/[:T]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify(result, null, 2) + '\n');
  console.log(`train: ratio ${result.train.ratio_median.toFixed(2)} · eval: ratio ${result.eval.ratio_median.toFixed(2)} → ${file}`);
}

await main();
