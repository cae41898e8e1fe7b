import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { decodeImage } from './decode.js';
import { DataError } from './errors.js';
import type { RGBImage } from './image.js';
import { compileTransform, type SampleKey, type TransformSpec } from './transform-spec.js';
import type { WorkerReply, WorkerTask } from './transform-worker.js';

/** Decodes and transforms images, on worker threads or (workers = 0) on the calling thread. */
export interface TransformPool {
  run(path: string, key: SampleKey): Promise<RGBImage>;
  close(): Promise<void>;
}

/** One worker per core by default (`os.availableParallelism()`). */
export function defaultWorkerCount(): number {
  return availableParallelism();
}

/** The worker's entry next to this module; from sources (.ts, tests) it is loaded through tsx. */
function spawnWorker(spec: TransformSpec): Worker {
  const here = import.meta.url;
  const fromSource = here.endsWith('.ts');
  const entry = new URL(fromSource ? './transform-worker.ts' : './transform-worker.js', here).href;
  if (!fromSource) return new Worker(new URL(entry), { workerData: { spec } });
  const tsx = createRequire(here).resolve('tsx/package.json').replace(/package\.json$/, 'dist/esm/api/index.mjs');
  const code = `import(${JSON.stringify(pathToFileURL(tsx).href)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); })`;
  return new Worker(code, { eval: true, workerData: { spec } });
}

interface Pending {
  resolve: (img: RGBImage) => void;
  reject: (e: Error) => void;
  path: string;
}

class ThreadPool implements TransformPool {
  private readonly workers: Worker[];
  private readonly pending = new Map<number, Pending>();
  private readonly load: number[];
  private nextId = 0;
  private closed = false;

  constructor(spec: TransformSpec, count: number) {
    this.workers = Array.from({ length: count }, () => spawnWorker(spec));
    this.load = this.workers.map(() => 0);
    this.workers.forEach((w, k) => {
      w.on('message', (r: WorkerReply) => this.reply(k, r));
      w.on('error', (e) => this.failAll(new DataError(`image worker failed: ${e.message}`, { cause: e })));
      w.unref(); // an idle pool never keeps the process alive (ref'd while tasks are pending)
    });
  }

  private reply(k: number, r: WorkerReply): void {
    this.load[k]!--;
    const p = this.pending.get(r.id);
    if (p === undefined) return;
    this.pending.delete(r.id);
    if (this.pending.size === 0) for (const w of this.workers) w.unref();
    if ('error' in r) p.reject(new DataError(r.error));
    else p.resolve({ width: r.width, height: r.height, data: r.data });
  }

  private failAll(e: Error): void {
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
    for (const w of this.workers) w.unref();
  }

  run(path: string, key: SampleKey): Promise<RGBImage> {
    if (this.closed) return Promise.reject(new DataError('the image pool is closed'));
    // Least-loaded worker: slow images do not hold up the queue behind them.
    let k = 0;
    for (let i = 1; i < this.load.length; i++) if (this.load[i]! < this.load[k]!) k = i;
    const id = this.nextId++;
    this.load[k]!++;
    if (this.pending.size === 0) for (const w of this.workers) w.ref();
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, path });
      this.workers[k]!.postMessage({ id, path, epoch: key.epoch, slot: key.slot } satisfies WorkerTask);
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    this.failAll(new DataError('the image pool was closed'));
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

/** Creates a pool of `workers` threads (0 = transform on the calling thread). */
export function createTransformPool(spec: TransformSpec, workers = defaultWorkerCount()): TransformPool {
  if (!Number.isInteger(workers) || workers < 0) throw new DataError(`workers must be a non-negative integer, got ${workers}`);
  if (workers > 0) return new ThreadPool(spec, workers);
  const transform = compileTransform(spec);
  return {
    run: async (path, key) => transform(await decodeImage(path), key),
    close: async () => {},
  };
}
