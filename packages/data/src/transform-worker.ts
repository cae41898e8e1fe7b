// Worker thread: decodes and transforms images, replying with the uint8 pixels (buffer transferred).
import { parentPort, workerData } from 'node:worker_threads';
import sharp from 'sharp';
import { decodeImage } from './decode.js';
import { compileTransform, type TransformSpec } from './transform-spec.js';

export interface WorkerTask {
  id: number;
  path: string;
  epoch: number;
  slot: number;
}

export type WorkerReply = { id: number; width: number; height: number; data: Uint8Array } | { id: number; error: string; code?: string };

// One decode thread per worker (the pool already runs one worker per core) and no libvips operation
// cache: every file is decoded once, so caching only holds memory.
sharp.concurrency(1);
sharp.cache(false);

const transform = compileTransform((workerData as { spec: TransformSpec }).spec);

async function handle(task: WorkerTask): Promise<void> {
  try {
    const out = transform(await decodeImage(task.path), task);
    // Transfer only a buffer the pixels own entirely (a decoder's buffer may be larger or shared).
    const own = out.data.byteOffset === 0 && out.data.byteLength === out.data.buffer.byteLength;
    const data = own ? out.data : out.data.slice();
    parentPort!.postMessage({ id: task.id, width: out.width, height: out.height, data } satisfies WorkerReply, [data.buffer as ArrayBuffer]);
  } catch (e) {
    parentPort!.postMessage({ id: task.id, error: (e as Error).message, code: (e as { code?: string }).code } satisfies WorkerReply);
  }
}

parentPort!.on('message', (task: WorkerTask) => void handle(task));
