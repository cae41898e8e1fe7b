import * as tf from '@tensorflow/tfjs';
import { createDeiT, initActivationSteps, saveSafetensors } from '@ofq/vit';
import { exportDeiT, readPackedModel } from '@ofq/runtime';
await tf.setBackend('cpu');
const cfg = { imgSize: 28, patchSize: 7, inChans: 1, embedDim: 64, depth: 4, numHeads: 4, mlpRatio: 4, numClasses: 10, distilled: true };
const fp = createDeiT(cfg);
const fpBytes = saveSafetensors(fp.stateDict()).byteLength;
const q = createDeiT({ ...cfg, quant: { weightBits: 2, actBits: 2, qkr: true, method: 'ofq' } });
initActivationSteps(q, tf.randomNormal([4, 28, 28, 1]) as tf.Tensor4D);
const b = exportDeiT(q);
const f = readPackedModel(b);
let codes = 0, scales = 0, floats = 0;
for (const w of f.weights.values()) { codes += Math.ceil(w.codes.length * w.bits / 8); scales += w.scales.length * 4; }
const big: [string, number][] = [];
for (const [n, t] of f.floats) { floats += t.data.length * 4; big.push([n, t.data.length]); }
big.sort((a, b) => b[1] - a[1]);
console.log({ fpBytes, packed: b.byteLength, ratio: fpBytes / b.byteLength, codes, scales, floats, header: b.byteLength - codes - scales - floats });
console.log(big.slice(0, 25));
