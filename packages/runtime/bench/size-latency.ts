// Size and latency of packed .ofq files vs FP safetensors (issue 13 figures), in Node and in Debian's
// headless Chromium, interleaved in one run. Writes bench/results/size-latency-<date>.json.
//   pnpm --filter @ofq/runtime bench          (OFQ_BENCH_SKIP_BROWSER=1 for Node only)
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { build } from 'esbuild';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createDeiT, initActivationSteps, quantizeDeiT, saveSafetensors, type DeiT, type DeiTConfig } from '@ofq/vit';
import { exportDeiT, readPackedModel } from '@ofq/runtime';
import { measurePair } from './measure.js';

const here = dirname(fileURLToPath(import.meta.url));
const MICRO_FILE = join(here, '../../../examples/browser-demo/public/model.ofq');
const CHROMIUM = process.env.OFQ_CHROMIUM ?? '/usr/bin/chromium';

interface Case { name: string; config: Partial<DeiTConfig>; fp: Uint8Array; packed: Uint8Array; reps: number; source: string }

function fpBytesOf(config: Partial<DeiTConfig>): Uint8Array {
  const { quant: _q, ...fpConfig } = config;
  const m = createDeiT({ ...fpConfig, seed: 1 });
  const s = m.stateDict();
  const b = saveSafetensors(s);
  tf.dispose([...s.values()]);
  m.dispose();
  return b;
}

function deitTiny(): Case {
  const config = { preset: 'deit-tiny' as const, seed: 1 };
  const fp = createDeiT(config) as DeiT;
  const q = quantizeDeiT(fp, { weightBits: 2, actBits: 2, qkr: true, method: 'ofq' });
  const x = tf.randomNormal([2, 224, 224, 3], 0, 1, 'float32', 5) as tf.Tensor4D;
  initActivationSteps(q, x);
  const packed = exportDeiT(q);
  const s = fp.stateDict();
  const fpBytes = saveSafetensors(s);
  tf.dispose([x, ...s.values()]);
  const cfg = JSON.parse(JSON.stringify(q.config)) as DeiTConfig;
  const { quant: _q, ...fpConfig } = cfg;
  q.dispose();
  fp.dispose();
  return { name: 'deit-tiny-w2a2', config: fpConfig, fp: fpBytes, packed, reps: 5, source: 'random weights (seed 1), LSQ steps from 2 random images' };
}

function micro(): Case {
  const packed = new Uint8Array(readFileSync(MICRO_FILE));
  const cfg = readPackedModel(packed).model as unknown as { config: DeiTConfig };
  const { quant: _q, ...fpConfig } = cfg.config;
  return { name: 'micro-deit-w2a2', config: fpConfig, fp: fpBytesOf(fpConfig), packed, reps: 40, source: 'examples/browser-demo/public/model.ofq (the main job\'s trained file); FP = same architecture, random weights' };
}

function sizeRow(c: Case, target: number) {
  const f = readPackedModel(c.packed);
  let codes = 0, scales = 0, floats = 0, params = 0;
  for (const w of f.weights.values()) { codes += Math.ceil((w.codes.length * w.bits) / 8); scales += 4 * w.scales.length; params += w.codes.length; }
  for (const t of f.floats.values()) floats += 4 * t.data.length;
  const ratio = c.fp.byteLength / c.packed.byteLength;
  return {
    fpBytes: c.fp.byteLength, packedBytes: c.packed.byteLength, ratio: +ratio.toFixed(2), target: `≤ 1/${target}`, meetsTarget: ratio >= target,
    breakdown: { codes, scales, floats, header: c.packed.byteLength - codes - scales - floats },
    // What dequantize-at-load holds in memory for the packed weights vs the codes themselves.
    weightMemory: { dequantizedF32: 4 * params, packedCodes: codes },
  };
}

async function chromiumRun(cases: Case[]): Promise<unknown> {
  const dir = mkdtempSync(join(tmpdir(), 'ofq-bench-'));
  await build({ entryPoints: [join(here, 'browser-entry.ts')], outfile: join(dir, 'bench.js'), bundle: true, format: 'esm', platform: 'browser', conditions: ['@ofq/source'], external: ['node:*'], minify: true, logLevel: 'warning' });
  writeFileSync(join(dir, 'index.html'), '<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,"><script type="module" src="./bench.js"></script>');
  mkdirSync(join(dir, 'wasm'));
  const wasmDist = join(dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist');
  for (const f of readdirSync(wasmDist).filter((f) => f.endsWith('.wasm'))) copyFileSync(join(wasmDist, f), join(dir, 'wasm', f));
  for (const c of cases) { writeFileSync(join(dir, `${c.name}.safetensors`), c.fp); writeFileSync(join(dir, `${c.name}.ofq`), c.packed); }
  const server = createServer((req, res) => {
    const p = join(dir, new URL(req.url ?? '/', 'http://x').pathname.replace(/\.\./g, ''));
    const file = p.endsWith('/') ? join(p, 'index.html') : p;
    if (!existsSync(file)) return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': file.endsWith('.js') ? 'text/javascript' : file.endsWith('.wasm') ? 'application/wasm' : file.endsWith('.html') ? 'text/html' : 'application/octet-stream' });
    res.end(readFileSync(file));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'] });
  const out: Record<string, unknown> = {};
  try {
    // webgl here is SwiftShader (--disable-gpu): CPU-emulated, so only the micro DeiT runs on it.
    for (const backend of ['wasm', 'webgl']) {
      const run = backend === 'wasm' ? cases : cases.filter((c) => c.name.startsWith('micro'));
      const page = await browser.newPage();
      await page.goto(`http://127.0.0.1:${(server.address() as { port: number }).port}/`);
      await page.waitForFunction(() => typeof window.runBench === 'function');
      out[backend] = await page.evaluate(([b, cs]) => window.runBench(b, cs), [backend, run.map((c) => ({ name: c.name, config: c.config as Record<string, unknown>, reps: c.reps }))] as const);
      await page.close();
    }
  } finally {
    await browser.close();
    server.close();
  }
  return out;
}

async function main(): Promise<void> {
  await tf.setBackend('wasm');
  await tf.ready();
  const started = new Date().toISOString();
  const load = loadavg().map((v) => +v.toFixed(2));
  const cases = [micro(), deitTiny()];
  const sizes = { [cases[0].name]: sizeRow(cases[0], 8), [cases[1].name]: sizeRow(cases[1], 12) };
  console.log(JSON.stringify(sizes, null, 2));
  const node: Record<string, unknown> = { backend: 'wasm (stock tfjs-backend-wasm, no @ofq/accel)' };
  for (const c of cases) node[c.name] = await measurePair(c.fp, c.packed, c.config, c.reps);
  console.log('node', JSON.stringify(node));
  const chromium = process.env.OFQ_BENCH_SKIP_BROWSER ? 'skipped (OFQ_BENCH_SKIP_BROWSER)' : await chromiumRun(cases);
  console.log('chromium', JSON.stringify(chromium));
  const result = { date: started, loadavg: { start: load, end: loadavg().map((v) => +v.toFixed(2)) }, cpu: '2 shared cores', sources: Object.fromEntries(cases.map((c) => [c.name, c.source])), sizes, latency: { node, chromium } };
  mkdirSync(join(here, 'results'), { recursive: true });
  const path = join(here, 'results', `size-latency-${started.slice(0, 16).replace(':', '')}.json`);
  writeFileSync(path, JSON.stringify(result, null, 2) + '\n');
  console.log(`wrote ${path}`);
}

await main();
