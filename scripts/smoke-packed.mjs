#!/usr/bin/env node
// Packs every publishable package, installs the tarballs into a temporary project OUTSIDE the
// workspace (plain npm, as a user would), then imports each package by ESM `import` and CJS `require`
// and calls one function from it. Prints one "ok"/"FAIL" line per check and a JSON summary.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'ofq-packed-'));
const tarballs = path.join(work, 'tarballs');
fs.mkdirSync(tarballs);
const pkgs = fs.readdirSync(path.join(root, 'packages')).filter((d) => fs.existsSync(path.join(root, 'packages', d, 'package.json')));

const deps = {
  '@tensorflow/tfjs': '4.22.0',
  '@tensorflow/tfjs-core': '4.22.0',
  '@tensorflow/tfjs-layers': '4.22.0',
  '@tensorflow/tfjs-backend-wasm': '4.22.0',
  '@tensorflow/tfjs-backend-cpu': '4.22.0',
  // @ofq/accel's optional peer; npm 11 skips its install script (which would download CUDA providers).
  'onnxruntime-node': '1.30.0',
};
for (const p of pkgs) {
  const out = execFileSync('pnpm', ['pack', '--pack-destination', tarballs], { cwd: path.join(root, 'packages', p), encoding: 'utf8' });
  const file = fs.readdirSync(tarballs).find((f) => f.startsWith(`ofq-${p}-`));
  if (!file) throw new Error(`pnpm pack produced no tarball for ${p}: ${out}`);
  deps[`@ofq/${p}`] = `file:${path.join(tarballs, file)}`;
}
const project = path.join(work, 'app');
fs.mkdirSync(project);
fs.writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'ofq-smoke', private: true, version: '0.0.0', dependencies: deps }, null, 2));
// As the @ofq/accel README tells users: skip onnxruntime-node's CUDA download (CPU binaries ship in the package).
fs.writeFileSync(path.join(project, '.npmrc'), 'onnxruntime-node-install=skip\n');
console.error(`[smoke] installing ${pkgs.length} tarballs into ${project}`);
execFileSync('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: project, stdio: 'inherit' });

// One call per package; each returns something printable. `m` is the module, `tf` the tfjs union.
const checks = {
  core: `const b = m.writeSafetensors({ w: { shape: [2], data: new Float32Array([1, 2]) } }); return m.readSafetensors(b).tensors.get('w').shape.join('x');`,
  statsq: `return Array.from(m.statsQuantize(tf.tensor2d([[0.1, -0.2], [0.3, 0.05]]), { bits: 2 }).dataSync()).length;`,
  lsq: `const q = new m.LSQQuantizer({ bits: 4, granularity: 'tensor' }); const y = q.apply(tf.tensor1d([0.5, -1, 2])); return y.shape.join('x');`,
  cga: `const quantizer = { kind: 'identity', name: 'identity', bits: 2, codeRange: [-2, 1], offset: 0, divisor: 1, state: [], preRound: (w) => w.clone(), scale: (w) => tf.ones([w.shape[w.rank - 1]]), quantize: (w) => w.clone(), codes: () => { throw new Error('unused'); }, dispose() {} }; return m.confidenceMask(tf.tensor2d([[0.5, -0.2], [0.3, 0.05]]), { quantizer, boundaryRange: 0.005 }).shape.join('x');`,
  qkr: `return m.mergedQKWeight(tf.ones([4, 4]), tf.ones([4, 4]), 2).shape.join('x');`,
  vit: `const model = m.createDeiT({ imgSize: 16, patchSize: 8, inChans: 1, embedDim: 16, depth: 1, numHeads: 2, mlpRatio: 2, numClasses: 3, distilled: true }); const y = model.predict(tf.zeros([1, 16, 16, 1])); return y.shape.join('x');`,
  metrics: `if (typeof m.renderReport !== 'function') throw new Error('no renderReport'); return new m.TrackOscillation({ momentum: 0.01 }).call(tf.tensor1d([1, -1])).shape.join('x');`,
  train: `const r = m.listRecipes(); if (!r.includes('mnist-micro')) throw new Error('recipes missing from the tarball: ' + r); return r.length;`,
  accel: `return m.installAccel({ engine: 'auto' }).engine;`,
  data: `const img = m.createImage(40, 30); return m.evalTransform(img, { imgSize: 16 }).width;`,
  runtime: `const b = m.writePackedModel({ model: { type: 'deit', config: {} }, weights: new Map([['w', { kind: 'statsq', codes: Int32Array.from([-2, 1, 0, -1]), scales: new Float32Array([1, 1]), offset: 0.5, divisor: 2, bits: 2, codeRange: [-2, 1], shape: [2, 2], channelAxis: -1 }]]), floats: new Map() }); return Array.from(m.readPackedModel(b).weights.get('w').codes).join(',');`,
  layers: `const model = tf.sequential({ layers: [tf.layers.dense({ inputShape: [3], units: 2 })] }); const h = m.applyOFQ(model, { weightBits: 2, actBits: 4, sample: tf.ones([2, 3]) }); return h.summary().layers.length;`,
};

function script(kind) {
  const load = (p) => (kind === 'esm' ? `await import('@ofq/${p}')` : `require('@ofq/${p}')`);
  const tfLoad = kind === 'esm' ? `const tf = await import('@tensorflow/tfjs');` : `const tf = require('@tensorflow/tfjs');`;
  const body = pkgs
    .map((p) => `try { const m = ${load(p)}; const r = (() => { ${checks[p] ?? 'return Object.keys(m).length;'} })(); if (r === undefined || r === 'undefined' || r === 0) throw new Error('nothing usable exported: ' + r); console.log('ok ${kind} @ofq/${p} -> ' + r); } catch (e) { failed++; console.log('FAIL ${kind} @ofq/${p}: ' + (e && e.stack || e)); }`)
    .join('\n');
  const main = `${tfLoad}\nawait tf.setBackend('cpu');\nawait tf.ready();\nlet failed = 0;\n${body}\nprocess.exitCode = failed ? 1 : 0;`;
  return kind === 'esm' ? main : `(async () => { ${main} })();`;
}
fs.writeFileSync(path.join(project, 'smoke.mjs'), script('esm'));
fs.writeFileSync(path.join(project, 'smoke.cjs'), script('cjs'));
let passed = 0;
let failed = 0;
for (const f of ['smoke.mjs', 'smoke.cjs']) {
  const r = spawnSync(process.execPath, [f], { cwd: project, encoding: 'utf8' });
  process.stdout.write(r.stdout);
  process.stderr.write(r.stderr);
  for (const line of r.stdout.split('\n')) {
    if (line.startsWith('ok ')) passed++;
    else if (line.startsWith('FAIL ')) failed++;
  }
  if (r.status !== 0 && !r.stdout.includes('FAIL')) failed++;
}
console.log(JSON.stringify({ smokePassed: passed, smokeFailed: failed }));
fs.rmSync(work, { recursive: true, force: true });
process.exit(failed ? 1 : 0);
