import * as tf from '@tensorflow/tfjs';
import { useBackend } from '@ofq/core/testing';
import fc from 'fast-check';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { installAccel, uninstallAccel } from './index.js';
import { sliceAliasStats } from './kernels/slice-alias-memory.js';

interface WasmInternals {
  wasm: { HEAPU8: Uint8Array; _free(p: number): void };
  dataIdMap: { has(id: object): boolean; get(id: object): { memoryOffset: number; refCount: number } };
  disposeData: unknown;
}

const wasm = () => tf.backend() as unknown as WasmInternals;
const offsetOf = (t: tf.Tensor) => wasm().dataIdMap.get(t.dataId).memoryOffset;
const heapBytes = () => wasm().wasm.HEAPU8.byteLength;
const stats = () => sliceAliasStats(tf.backend());

/** Byte range [start, end) of a tensor's data on the heap. */
function range(t: tf.Tensor): [number, number] {
  const o = offsetOf(t);
  return [o, o + t.size * 4];
}

/** True when `child`'s data lies inside `parentRange` (the copy-free path was taken). */
function inside(child: tf.Tensor, [start, end]: [number, number]): boolean {
  const [s, e] = range(child);
  return s >= start && e <= end;
}

function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 31 - 1;
  };
}

function iota(shape: number[], dtype: 'float32' | 'int32' = 'float32'): tf.Tensor {
  const size = shape.reduce((p, d) => p * d, 1);
  return tf.tensor(Array.from({ length: size }, (_, i) => (dtype === 'int32' ? i - 7 : i * 0.5 - 3.25)), shape, dtype);
}

/** Runs `f` with the stock kernels (accel uninstalled), then reinstalls. */
function stock<T>(f: () => T): T {
  uninstallAccel();
  try {
    return f();
  } finally {
    installAccel({ engine: 'wasm' });
  }
}

const values = (t: tf.Tensor) => Array.from(t.dataSync());

describe('copy-free Slice / SplitV / Unpack on wasm', () => {
  beforeAll(async () => {
    await useBackend('wasm');
    installAccel({ engine: 'wasm' });
  });
  afterAll(() => uninstallAccel());
  afterEach(() => {
    // Every test ends with all aliases gone.
    expect(stats().liveAliases).toBe(0);
    expect(stats().ownersAlive).toBe(0);
  });

  it('is installed on wasm under every engine', () => {
    expect(installAccel({ engine: 'wasm' }).kernels).toEqual(expect.arrayContaining(['Identity', 'Slice', 'SplitV', 'Unpack']));
  });

  it('leading-axis slice, split and unstack alias the parent, with the stock values', () => {
    const before = tf.memory();
    const x = iota([4, 3, 5]);
    const r = range(x);
    const s = tf.slice(x, [1, 0, 0], [2, 3, 5]);
    const parts = tf.split(x, [1, 3], 0);
    const rows = tf.unstack(x);
    const inner = tf.slice(x, [2, 1, 0], [1, 2, 5]); // extent 1 before the sliced axis: still contiguous
    for (const t of [s, ...parts, ...rows, inner]) expect(inside(t, r)).toBe(true);
    expect(offsetOf(s)).toBe(r[0] + 15 * 4);
    expect(offsetOf(inner)).toBe(r[0] + (2 * 15 + 5) * 4);
    expect(stats().liveAliases).toBe(8);
    const expected = stock(() =>
      tf.tidy(() => [tf.slice(x, [1, 0, 0], [2, 3, 5]), ...tf.split(x, [1, 3], 0), ...tf.unstack(x), tf.slice(x, [2, 1, 0], [1, 2, 5])].map(values)),
    );
    [s, ...parts, ...rows, inner].forEach((t, i) => expect(values(t)).toEqual(expected[i]));
    expect(rows[0].shape).toEqual([3, 5]);
    tf.dispose([x, s, ...parts, ...rows, inner]);
    expect(tf.memory().numTensors).toBe(before.numTensors);
    expect(tf.memory().numBytes).toBe(before.numBytes);
  });

  it('non-contiguous cases go to the stock kernels and still match', () => {
    const x = iota([2, 6, 4]);
    const r = range(x);
    const cases: Array<() => tf.Tensor | tf.Tensor[]> = [
      () => tf.slice(x, [0, 1, 0], [2, 3, 4]),
      () => tf.slice(x, [0, 0, 1], [1, 2, 2]),
      () => tf.split(x, 3, 1),
      () => tf.split(x, 2, 2),
      () => tf.unstack(x, 1),
      () => tf.unstack(x, -1),
    ];
    for (const c of cases) {
      const expected = stock(() => tf.tidy(() => [c()].flat().map(values)));
      const got = [c()].flat();
      got.forEach((t, i) => {
        expect(values(t)).toEqual(expected[i]);
        expect(inside(t, r)).toBe(false);
      });
      tf.dispose(got);
    }
    x.dispose();
  });

  it('random shapes: slices, splits and unstacks equal the stock kernels, aliased exactly when contiguous', () => {
    const rnd = seeded(17);
    const int = (lo: number, hi: number) => lo + Math.floor(((rnd() + 1) / 2) * (hi - lo + 1));
    for (let trial = 0; trial < 60; trial++) {
      const rank = int(1, 5);
      const shape = Array.from({ length: rank }, () => int(1, 5));
      const dtype = trial % 3 === 0 ? 'int32' : 'float32';
      const x = iota(shape, dtype);
      const begin = shape.map((d) => int(0, d - 1));
      const size = shape.map((d, i) => int(1, d - begin[i]));
      const axis = int(0, rank - 1);
      const ops: Array<() => tf.Tensor[]> = [
        () => [tf.slice(x, begin, size)],
        () => tf.split(x, [shape[axis] - 1, 1].filter((s) => s > 0), axis),
        () => tf.unstack(x, axis),
      ];
      // The slice is one contiguous range when every axis after the first one of extent > 1 is whole.
      const first = size.findIndex((d) => d > 1);
      const contiguous = first < 0 || size.every((d, i) => i <= first || (begin[i] === 0 && d === shape[i]));
      const slice = tf.slice(x, begin, size);
      expect(inside(slice, range(x))).toBe(contiguous && slice.size * 16 >= x.size);
      slice.dispose();
      for (const op of ops) {
        const expected = stock(() => tf.tidy(() => op().map((t) => ({ shape: t.shape, dtype: t.dtype, v: values(t) }))));
        const got = op();
        got.forEach((t, i) => {
          expect({ shape: t.shape, dtype: t.dtype, v: values(t) }).toEqual(expected[i]);
        });
        tf.dispose(got);
      }
      x.dispose();
    }
  });

  it('int32 aliases too; zero-size, bool and string go to the stock kernels', () => {
    const x = iota([3, 4], 'int32');
    const [a, b] = tf.split(x, [1, 2]);
    expect(inside(b, range(x))).toBe(true);
    expect(b.dtype).toBe('int32');
    expect(values(a)).toEqual([-7, -6, -5, -4]);
    const empty = tf.slice(x, [1, 0], [0, 4]);
    expect(empty.shape).toEqual([0, 4]);
    const emptyParts = tf.split(tf.zeros([0, 3]), 3, 1);
    expect(emptyParts.map((t) => t.shape)).toEqual([[0, 1], [0, 1], [0, 1]]);
    expect(tf.unstack(tf.zeros([0, 2]))).toEqual([]);
    const bools = tf.unstack(tf.tensor2d([[true, false], [false, true]], undefined, 'bool'));
    expect(bools.map(values)).toEqual([[1, 0], [0, 1]]);
    const strs = tf.unstack(tf.tensor2d([['a', 'b'], ['c', 'd']]));
    expect(strs.map((t) => t.arraySync())).toEqual([['a', 'b'], ['c', 'd']]);
    tf.dispose([x, a, b, empty, ...emptyParts, ...bools, ...strs]);
  });

  it('every dispose order frees the block exactly once, only through the owner pointer, and never an interior one', () => {
    const w = wasm();
    const realFree = w.wasm._free;
    const freed: number[] = [];
    w.wasm._free = (p: number) => {
      freed.push(p);
      realFree.call(w.wasm, p);
    };
    try {
      // Each order is a permutation of [parent, q, k, v, alias-of-alias].
      const orders = [[0, 1, 2, 3, 4], [4, 3, 2, 1, 0], [1, 0, 4, 3, 2], [2, 4, 0, 3, 1], [3, 1, 4, 2, 0]];
      for (const order of orders) {
        const before = tf.memory();
        const x = iota([3, 2, 4]);
        const [start, end] = range(x);
        const qkv = tf.unstack(x);
        const sub = tf.slice(qkv[2], [1, 0], [1, 4]); // alias of an alias (1/6 of the block: above the copy threshold)
        expect(inside(sub, [start, end])).toBe(true);
        expect(offsetOf(sub)).toBe(start + (2 * 8 + 4) * 4);
        const all = [x, ...qkv, sub];
        const expected = all.map(values);
        freed.length = 0;
        order.forEach((i, n) => {
          all[i].dispose();
          const remaining = order.slice(n + 1);
          for (const j of remaining) expect(values(all[j])).toEqual(expected[j]); // survivors stay valid
          if (remaining.length > 0) expect(freed.filter((p) => p >= start && p < end)).toEqual([]);
        });
        expect(freed.filter((p) => p >= start && p < end)).toEqual([start]);
        expect(tf.memory().numTensors).toBe(before.numTensors);
        expect(tf.memory().numBytes).toBe(before.numBytes);
      }
    } finally {
      w.wasm._free = realFree;
    }
  });

  it('clones, reshapes, tf.keep and tidy on aliases keep them valid', () => {
    const x = iota([2, 3]);
    const kept = tf.tidy(() => {
      const [a, b] = tf.unstack(x);
      const r = tf.reshape(b, [3, 1]); // shares b's dataId
      const c = a.clone(); // copy-free Identity shares a's dataId
      tf.keep(c);
      return [c, r];
    });
    x.dispose();
    expect(values(kept[0])).toEqual([-3.25, -2.75, -2.25]);
    expect(values(kept[1])).toEqual([-1.75, -1.25, -0.75]);
    expect(stats().liveAliases).toBe(2);
    tf.dispose(kept);
  });

  it('tf.variable(slice) outlives the parent and the slice; assign replaces it', () => {
    const x = iota([2, 4]);
    const [a, rest] = tf.split(x, 2);
    const v = tf.variable(a);
    x.dispose();
    a.dispose();
    rest.dispose();
    expect(values(v)).toEqual([-3.25, -2.75, -2.25, -1.75]);
    const twice = tf.tidy(() => v.mul(2));
    v.assign(twice as tf.Tensor2D);
    twice.dispose();
    expect(values(v)).toEqual([-6.5, -5.5, -4.5, -3.5]);
    expect(stats().liveAliases).toBe(0);
    // A variable assigned an alias keeps it alive the same way.
    const y = iota([2, 4]);
    const [a2, b] = tf.unstack(y);
    const b2 = b.reshape([1, 4]) as tf.Tensor2D;
    v.assign(b2);
    tf.dispose([y, a2, b, b2]);
    expect(stats().liveAliases).toBe(1);
    expect(values(v)).toEqual([-1.25, -0.75, -0.25, 0.25]);
    v.dispose();
    expect(stats().liveAliases).toBe(0);
  });

  it('gradients through tf.grads are unchanged', () => {
    const rnd = seeded(3);
    const x = tf.tensor(Float32Array.from({ length: 3 * 2 * 5 }, rnd), [3, 2, 5]);
    const w = tf.tensor(Float32Array.from({ length: 2 * 5 }, rnd), [2, 5]);
    const loss = (t: tf.Tensor, u: tf.Tensor) => {
      const [q, k, v] = tf.unstack(t);
      const [a, b] = tf.split(t, [1, 2], 0);
      const s = tf.slice(t, [1, 1, 0], [1, 1, 5]);
      return tf.sum(tf.mul(tf.mul(q, u), tf.add(k, v))).add(tf.sum(tf.mul(a, b.sum(0)))).add(tf.sum(tf.mul(s, s)));
    };
    const grads = () => tf.grads(loss as (...a: tf.Tensor[]) => tf.Tensor)([x, w]);
    const expected = stock(grads);
    const actual = grads();
    actual.forEach((g, i) => expect(values(g)).toEqual(values(expected[i])));
    tf.dispose([x, w, ...expected, ...actual]);
  });

  it('no leaked tensors, bytes or heap growth over 1,000 calls (parent-first and child-first)', () => {
    const step = (i: number) => {
      const x = tf.randomUniform([6, 64, 64]); // 96 KiB block
      const parts = tf.split(x, 3, 0);
      const rows = tf.unstack(parts[i % 3]);
      const y = tf.tidy(() => tf.add(rows[1], tf.slice(x, [5, 0, 0], [1, 64, 64]).reshape([64, 64])).sum());
      if (i % 2) tf.dispose([x, ...parts, ...rows]);
      else tf.dispose([...rows, ...parts.reverse(), x]);
      return y;
    };
    step(0).dispose();
    step(1).dispose();
    const before = tf.memory();
    const heap = heapBytes();
    for (let i = 0; i < 1000; i++) step(i).dispose();
    expect(tf.memory().numTensors).toBe(before.numTensors);
    expect(tf.memory().numBytes).toBe(before.numBytes);
    expect(heapBytes()).toBe(heap);
  });

  it('a small slice of a large tensor is copied, not aliased (it must not pin the block)', () => {
    const x = iota([64, 8]);
    const split = tf.split(x, [2, 62]); // 1/32 of the block, and 31/32
    const rows = tf.unstack(x); // 1/64 each
    const big = tf.slice(x, [0, 0], [8, 8]); // 1/8: aliased
    expect(inside(split[0], range(x))).toBe(false);
    expect(inside(split[1], range(x))).toBe(true);
    expect(rows.some((r) => inside(r, range(x)))).toBe(false);
    expect(inside(big, range(x))).toBe(true);
    expect(values(rows[5])).toEqual(values(x).slice(40, 48));
    expect(values(split[0])).toEqual(values(x).slice(0, 16));
    tf.dispose([x, ...split, ...rows, big]);
  });

  it('a parent moved to another backend (force-dispose) leaves its aliases valid', async () => {
    const x = iota([2, 3]);
    const [a, b] = tf.unstack(x);
    await tf.setBackend('cpu');
    const y = tf.add(x, 1); // the cpu kernel moves x off wasm: wasm disposeData(x, force)
    expect(values(y)).toEqual(values(x).map((v) => v + 1));
    await tf.setBackend('wasm');
    expect(values(a)).toEqual([-3.25, -2.75, -2.25]);
    expect(values(b)).toEqual([-1.75, -1.25, -0.75]);
    expect(stats().ownersAlive).toBe(0); // the block now belongs to the aliases
    tf.dispose([x, y, a, b]);
  });

  it('properties: any contiguous cut, any alias-of-alias chain, any dispose order', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 4 }),
        fc.array(fc.nat(), { minLength: 6, maxLength: 6 }),
        (shape, picks) => {
          const before = tf.memory();
          const heapBefore = heapBytes();
          const x = iota(shape);
          const ref = values(x);
          // Two levels: split x on axis 0, then unstack the first piece.
          const cut = 1 + (picks[0] % shape[0]);
          const parts = tf.split(x, cut === shape[0] ? [cut] : [cut, shape[0] - cut], 0);
          const level2 = shape.length > 1 ? tf.unstack(parts[0]) : [];
          const all = [x, ...parts, ...level2];
          const inner = shape.slice(1).reduce((p, d) => p * d, 1);
          const expectedOf = (t: tf.Tensor, i: number): number[] => {
            if (i === 0) return ref;
            if (i <= parts.length) return ref.slice(i === 1 ? 0 : cut * inner, i === 1 ? cut * inner : ref.length);
            const j = i - 1 - parts.length;
            return ref.slice(j * t.size, (j + 1) * t.size);
          };
          const expected = all.map(expectedOf);
          all.forEach((t, i) => expect(values(t)).toEqual(expected[i]));
          // A dispose order from the picks.
          const order = all.map((_, i) => i).sort((p, q) => ((p * 7919 + picks[1 + (p % 5)]) % 13) - ((q * 7919 + picks[1 + (q % 5)]) % 13));
          order.forEach((i, n) => {
            all[i].dispose();
            for (const j of order.slice(n + 1)) expect(values(all[j])).toEqual(expected[j]);
          });
          expect(tf.memory().numTensors).toBe(before.numTensors);
          expect(tf.memory().numBytes).toBe(before.numBytes);
          expect(heapBytes()).toBe(heapBefore);
          expect(stats().liveAliases).toBe(0);
        },
      ),
      { numRuns: 60, seed: 42 },
    );
  });

  it('uninstall with live aliases: they stay valid, and the stock disposeData returns once the last is gone', () => {
    const backend = wasm();
    const protoDispose = Object.getPrototypeOf(backend).disposeData;
    const x = iota([4, 2]);
    const parts = tf.split(x, 2);
    expect(Object.prototype.hasOwnProperty.call(backend, 'disposeData')).toBe(true);
    uninstallAccel();
    expect(tf.getKernel('SplitV', 'wasm')?.kernelFunc).not.toBeUndefined();
    // Stock kernels now; the live aliases still dispose through the wrapper.
    const stockParts = tf.split(x, 2);
    expect(inside(stockParts[0], range(x))).toBe(false);
    x.dispose();
    expect(values(parts[1])).toEqual([-1.25, -0.75, -0.25, 0.25]);
    parts[0].dispose();
    expect(Object.prototype.hasOwnProperty.call(backend, 'disposeData')).toBe(true);
    parts[1].dispose();
    expect(Object.prototype.hasOwnProperty.call(backend, 'disposeData')).toBe(false);
    expect(backend.disposeData).toBe(protoDispose);
    expect(stats().wrapped).toBe(false);
    tf.dispose(stockParts);
    // Uninstall with no alias alive restores at once.
    installAccel({ engine: 'wasm' });
    const small = iota([2, 2]);
    tf.dispose([small, ...tf.unstack(small)]);
    expect(stats().wrapped).toBe(true);
    uninstallAccel();
    expect(Object.prototype.hasOwnProperty.call(backend, 'disposeData')).toBe(false);
    installAccel({ engine: 'wasm' });
  });

  // Last: it replaces the wasm backend instance.
  it('after tf.engine().reset() the new backend instance gets its own wrapper, and uninstall restores it', async () => {
    const x = iota([2, 3]);
    tf.unstack(x); // aliases alive when the old instance is disposed: they go with its heap
    tf.engine().reset();
    await tf.setBackend('wasm');
    await tf.ready();
    const backend = wasm();
    expect(stats().wrapped).toBe(false);
    const y = iota([2, 3]);
    const rows = tf.unstack(y);
    expect(inside(rows[1], range(y))).toBe(true);
    expect(stats().wrapped).toBe(true);
    y.dispose();
    expect(values(rows[1])).toEqual([-1.75, -1.25, -0.75]);
    tf.dispose(rows);
    expect(tf.memory().numTensors).toBe(0);
    uninstallAccel();
    expect(Object.prototype.hasOwnProperty.call(backend, 'disposeData')).toBe(false);
    installAccel({ engine: 'wasm' });
  });
});
