// Writes public/strip.bin: the first 16 MNIST test digits (from @ofq/train's embedded MNIST).
import { writeFileSync } from 'node:fs';
import { loadMnist } from '@ofq/train';
import { SIDE, encodeStrip } from '../src/strip.js';

const N = 16;
const test = loadMnist().test;
const labels = Array.from(test.labels.subarray(0, N));
const images = labels.map((_, i) => test.images.slice(i * SIDE * SIDE, (i + 1) * SIDE * SIDE));
writeFileSync(new URL('../public/strip.bin', import.meta.url), encodeStrip(labels, images));
console.log(`public/strip.bin: ${N} digits, labels ${labels.join(' ')}`);
