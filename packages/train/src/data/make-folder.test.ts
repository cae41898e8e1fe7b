import { describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { scanImageNetFolder } from '@ofq/data';
import { loadMnist } from './datasets.js';
import { makeImageFolder } from './make-folder.js';

describe('ofq data make-folder --limit', () => {
  it('takes the images round-robin over the classes, so a small folder has no empty class folder and scans', async () => {
    const out = mkdtempSync(join(tmpdir(), 'ofq-make-folder-'));
    // MNIST's first 12 training images cover only some digits; round-robin gives each digit one, two get a second.
    const r = await makeImageFolder({ from: 'mnist', size: 8, limit: 12, out });
    expect(r).toMatchObject({ train: 12, val: 12 });
    const { train, val } = scanImageNetFolder(out);
    expect(train.paths).toHaveLength(12);
    expect(val.paths).toHaveLength(12);
    for (const split of [train, val]) {
      const perClass = Array.from({ length: 10 }, (_, k) => split.labels.filter((l) => l === k).length);
      expect(perClass.every((n) => n >= 1 && n <= 2)).toBe(true);
      expect(perClass.filter((n) => n === 2)).toHaveLength(2);
    }
    // Each class keeps its first images (index order): digit 0's first training image is MNIST's index 1.
    const mnist = loadMnist();
    const firstZero = mnist.train.labels.findIndex((l) => l === 0);
    expect(readdirSync(join(out, 'train', '0'))[0]).toBe(`${String(firstZero).padStart(5, '0')}.jpg`);
  });

  it('refuses a limit below the class count (it would leave empty class folders)', async () => {
    const out = mkdtempSync(join(tmpdir(), 'ofq-make-folder-'));
    await expect(makeImageFolder({ from: 'mnist', size: 8, limit: 4, out })).rejects.toThrow(/--limit 4 would leave class folders empty: it must be at least the 10 classes/);
  });
});
