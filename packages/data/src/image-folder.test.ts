import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { scanImageFolder, scanImageNetFolder } from './image-folder.js';

const root = mkdtempSync(join(tmpdir(), 'ofq-folder-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function touch(...parts: string[]): void {
  const p = join(root, ...parts);
  mkdirSync(join(p, '..'), { recursive: true });
  writeFileSync(p, '');
}

describe('scanImageFolder (torchvision ImageFolder semantics)', () => {
  it('sorts classes by name into indices and files within a class, recursing like sorted(os.walk)', () => {
    for (const f of ['b/2.jpg', 'b/1.PNG', 'a/x.webp', 'a/sub/y.jpeg', 'a/sub/deeper/v.jpg', 'a/sub-z/w.jpg', 'a/notes.txt', 'C/k.jpg', 'loose.jpg']) touch('s1', ...f.split('/'));
    const f = scanImageFolder(join(root, 's1'));
    expect(f.classes).toEqual(['C', 'a', 'b']); // code-point order: upper case first
    const rel = f.paths.map((p) => p.slice(join(root, 's1').length + 1));
    // sorted(os.walk) orders directories by full path: 'a/sub' < 'a/sub-z' < 'a/sub/deeper' ('-' < '/')
    expect(rel).toEqual(['C/k.jpg', 'a/x.webp', 'a/sub/y.jpeg', 'a/sub-z/w.jpg', 'a/sub/deeper/v.jpg', 'b/1.PNG', 'b/2.jpg']);
    expect(Array.from(f.labels)).toEqual([0, 1, 1, 1, 1, 2, 2]);
  });

  it('rejects a missing folder, no classes, and an empty class, naming them', () => {
    expect(() => scanImageFolder(join(root, 'nope'))).toThrow(/image folder not found: .*nope/);
    mkdirSync(join(root, 's2'));
    expect(() => scanImageFolder(join(root, 's2'))).toThrow(/no class folders/);
    touch('s3', 'dog', 'a.jpg');
    mkdirSync(join(root, 's3', 'cat'));
    expect(() => scanImageFolder(join(root, 's3'))).toThrow(/no image files .* class folder\(s\) cat/);
  });

  it('indexes val by the train classes', () => {
    touch('inet', 'train', 'n01', 'a.jpg');
    touch('inet', 'train', 'n02', 'b.jpg');
    touch('inet', 'val', 'n02', 'c.jpg');
    touch('inet', 'val', 'n01', 'd.jpg');
    const { train, val } = scanImageNetFolder(join(root, 'inet'));
    expect(train.classes).toEqual(['n01', 'n02']);
    expect(Array.from(val.labels)).toEqual([0, 1]);
    touch('inet2', 'train', 'n01', 'a.jpg');
    touch('inet2', 'train', 'n02', 'a.jpg');
    touch('inet2', 'val', 'n01', 'a.jpg');
    expect(() => scanImageNetFolder(join(root, 'inet2'))).toThrow(/class folder 'n02' is missing/);
  });
});
