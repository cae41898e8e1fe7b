// The demo page: loads the packed 2-bit micro DeiT with @ofq/runtime on the best backend the browser
// offers (webgl → wasm → cpu; `?backend=` forces one), classifies the MNIST strip and what you draw.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-webgl';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { loadPackedModelSync, packedBytes, type PackedDeiT } from '@ofq/runtime';
import { SIDE, normalise, parseStrip } from './strip.js';
import { centreDigit } from './pad.js';

interface DemoState {
  backend: string;
  loadMs: number;
  perImageMs: number;
  packedBytes: number;
  fpBytes: number | null;
  strip: { labels: number[]; predictions: number[]; probabilities: number[][] };
  drawn: { prediction: number; probabilities: number[] } | null;
}
declare global {
  interface Window {
    ofqDemo?: DemoState;
  }
}

const $ = (id: string) => document.getElementById(id) as HTMLElement;

async function pickBackend(): Promise<string> {
  setWasmPaths(new URL('./wasm/', location.href).href);
  const forced = new URLSearchParams(location.search).get('backend');
  for (const b of forced ? [forced] : ['webgl', 'wasm', 'cpu']) {
    try {
      if (await tf.setBackend(b)) {
        await tf.ready();
        return b;
      }
    } catch {
      // next backend
    }
  }
  throw new Error('no tfjs backend could start');
}

/** Class probabilities of one normalised 28×28 image. */
async function classify(model: PackedDeiT, x: Float32Array): Promise<number[]> {
  const p = tf.tidy(() => tf.softmax(model.predict(tf.tensor4d(x, [1, SIDE, SIDE, 1]))));
  const v = Array.from(await p.data());
  p.dispose();
  return v;
}

const argmax = (v: number[]) => v.indexOf(Math.max(...v));

function showProbs(p: number[], labels: string[]): void {
  $('prediction').textContent = labels[argmax(p)] ?? String(argmax(p));
  $('probs').innerHTML = p
    .map((v, i) => `<div><b>${labels[i] ?? i}</b><span class="bar" style="width:${Math.round(160 * v)}px"></span>${(100 * v).toFixed(1)}%</div>`)
    .join('');
}

function drawDigit(canvas: HTMLCanvasElement, pixels: Uint8Array): void {
  canvas.width = canvas.height = SIDE;
  const ctx = canvas.getContext('2d')!;
  const img = ctx.createImageData(SIDE, SIDE);
  pixels.forEach((v, i) => img.data.set([v, v, v, 255], 4 * i));
  ctx.putImageData(img, 0, 0);
}

function setupPad(onDigit: (pixels: Uint8ClampedArray) => void): void {
  const pad = $('pad') as HTMLCanvasElement;
  const ctx = pad.getContext('2d')!;
  const clear = () => {
    ctx.fillStyle = '#000';
    ctx.fillRect(0, 0, pad.width, pad.height);
  };
  clear();
  let drawing = false;
  const at = (e: PointerEvent) => [e.offsetX * (pad.width / pad.clientWidth), e.offsetY * (pad.height / pad.clientHeight)] as const;
  pad.addEventListener('pointerdown', (e) => {
    drawing = true;
    ctx.strokeStyle = '#fff';
    ctx.lineWidth = 22;
    ctx.lineCap = ctx.lineJoin = 'round';
    ctx.beginPath();
    ctx.moveTo(...at(e));
  });
  pad.addEventListener('pointermove', (e) => {
    if (!drawing) return;
    ctx.lineTo(...at(e));
    ctx.stroke();
  });
  const end = () => {
    if (!drawing) return;
    drawing = false;
    const digit = centreDigit(pad);
    if (digit) onDigit(digit);
  };
  pad.addEventListener('pointerup', end);
  pad.addEventListener('pointerleave', end);
  $('clear').addEventListener('click', clear);
}

async function main(): Promise<void> {
  const t0 = performance.now();
  const backend = await pickBackend();
  const [bytes, stripBytes] = await Promise.all([packedBytes('./model.ofq'), packedBytes('./strip.bin')]);
  const model = loadPackedModelSync(bytes);
  const input = model.file.input ?? { mean: [0.1307], std: [0.3081] };
  const labels = input.labels ?? [];
  const norm = (px: Uint8Array | Uint8ClampedArray) => normalise(px, input.mean[0], input.std[0]);
  const strip = parseStrip(stripBytes);
  const first = await classify(model, norm(strip.images[0]));
  const loadMs = performance.now() - t0;

  const probabilities: number[][] = [first];
  const times: number[] = [];
  for (const im of strip.images.slice(1)) {
    const s = performance.now();
    probabilities.push(await classify(model, norm(im)));
    times.push(performance.now() - s);
  }
  times.sort((a, b) => a - b);
  const perImageMs = times[Math.floor(times.length / 2)];
  const predictions = probabilities.map(argmax);
  strip.images.forEach((im, i) => {
    const fig = document.createElement('figure');
    const c = document.createElement('canvas');
    drawDigit(c, im);
    const ok = predictions[i] === strip.labels[i];
    fig.append(c, Object.assign(document.createElement('figcaption'), { className: ok ? 'ok' : 'bad', textContent: `${predictions[i]}${ok ? '' : ` (${strip.labels[i]})`}` }));
    $('strip').append(fig);
  });

  const fpBytes = typeof model.file.info?.fpBytes === 'number' ? model.file.info.fpBytes : null;
  const kb = (b: number) => `${(b / 1000).toFixed(1)} kB`;
  const correct = predictions.filter((p, i) => p === strip.labels[i]).length;
  $('facts').innerHTML = [
    ['backend', backend],
    ['packed model', kb(bytes.byteLength)],
    ['FP safetensors', fpBytes ? `${kb(fpBytes)} (${(fpBytes / bytes.byteLength).toFixed(1)}x larger)` : 'n/a'],
    ['load + first prediction', `${loadMs.toFixed(0)} ms`],
    ['per image (median)', `${perImageMs.toFixed(2)} ms`],
    ['strip', `${correct}/${predictions.length} correct`],
    ['test top-1 of the run', typeof model.file.info?.testTop1 === 'number' ? `${(100 * model.file.info.testTop1).toFixed(2)}%` : 'n/a'],
  ].map(([k, v]) => `<tr><td>${k}</td><td>${v}</td></tr>`).join('');
  $('status').textContent = `${model.config.quant?.weightBits}-bit weights, ${model.config.quant?.actBits}-bit activations · @ofq/runtime on ${backend}`;

  const state: DemoState = { backend, loadMs, perImageMs, packedBytes: bytes.byteLength, fpBytes, strip: { labels: strip.labels, predictions, probabilities }, drawn: null };
  window.ofqDemo = state;
  setupPad(async (px) => {
    const p = await classify(model, norm(px));
    showProbs(p, labels);
    state.drawn = { prediction: argmax(p), probabilities: p };
    document.body.dataset.drawn = String(Number(document.body.dataset.drawn ?? 0) + 1);
  });
  document.body.dataset.ready = '1';
}

main().catch((e) => {
  $('status').textContent = `failed: ${(e as Error).message}`;
  console.error(e);
});
