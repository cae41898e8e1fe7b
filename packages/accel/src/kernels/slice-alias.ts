/**
 * Copy-free Slice, SplitV and Unpack for tfjs-backend-wasm. When an output is one contiguous
 * range of its input (every axis before the first sliced one has extent 1 in the output and
 * every later axis is whole: leading-axis slices, `tf.unstack(x)`, `tf.split(x, n, 0)`), it
 * becomes a tensor aliasing that range of the input's heap block instead of a copy (the stock
 * kernels also first copy the WHOLE input into JS with readSync, once per output). Lifetimes:
 * see slice-alias-memory.ts.
 *
 * Anything else goes to the stock kernel: non-contiguous outputs, dtypes other than float32 and
 * int32, zero-size outputs. A contiguous output smaller than 1/16 of the heap block it would
 * keep alive is copied (one memmove inside the heap) rather than aliased, so a small slice kept
 * for long (a logged value, a cls token) cannot pin a large activation.
 */
import { backend_util, slice_util, util } from '@tensorflow/tfjs-core';
import type { KernelBackend, KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { makeAliases, rootBytes } from './slice-alias-memory.js';

/** An output smaller than this fraction of the block it would keep alive is copied instead. */
export const MIN_ALIAS_FRACTION = 1 / 16;

interface CopyBackend {
  wasm: { HEAPU8: Uint8Array };
  dataIdMap: { get(id: object): { memoryOffset: number } | undefined };
  makeOutput(shape: number[], dtype: string): TensorInfo;
}

type Args = { inputs: Record<string, TensorInfo>; attrs: Record<string, unknown>; backend: KernelBackend };

/** A contiguous piece of the input: its flat element offset and its output shape. */
interface Piece {
  offset: number;
  shape: number[];
}

const ALIASABLE = new Set(['float32', 'int32']);

/** Outputs for contiguous, non-empty pieces of `x` (in order): aliased, or copied when small. */
function contiguousPieces(backend: KernelBackend, x: TensorInfo, pieces: Piece[]): TensorInfo[] {
  const total = rootBytes(backend, x);
  const outs: Array<TensorInfo | null> = pieces.map(() => null);
  const aliasIdx: number[] = [];
  pieces.forEach((p, i) => {
    if (util.sizeFromShape(p.shape) * 4 >= total * MIN_ALIAS_FRACTION) aliasIdx.push(i);
  });
  const aliased = makeAliases(
    backend,
    x,
    aliasIdx.map((i) => pieces[i].offset),
    aliasIdx.map((i) => pieces[i].shape),
  );
  aliasIdx.forEach((i, j) => (outs[i] = aliased[j]));
  const b = backend as unknown as CopyBackend;
  pieces.forEach((p, i) => {
    if (outs[i]) return;
    const out = b.makeOutput(p.shape, x.dtype); // may grow the heap: offsets are read afterwards
    const src = b.dataIdMap.get(x.dataId)!.memoryOffset + p.offset * 4;
    const dst = b.dataIdMap.get(out.dataId)!.memoryOffset;
    b.wasm.HEAPU8.copyWithin(dst, src, src + util.sizeFromShape(p.shape) * 4);
    outs[i] = out;
  });
  return outs as TensorInfo[];
}

function usable(x: TensorInfo): boolean {
  return ALIASABLE.has(x.dtype);
}

/** Pieces of `x` cut along `axis` at `sizes` (begin advancing), or null if any is non-contiguous or empty. */
function axisPieces(x: TensorInfo, axis: number, sizes: number[], outShape?: number[]): Piece[] | null {
  const strides = util.computeStrides(x.shape);
  const begin = new Array<number>(x.shape.length).fill(0);
  const pieces: Piece[] = [];
  for (const s of sizes) {
    const size = x.shape.slice();
    size[axis] = s;
    if (util.sizeFromShape(size) === 0 || !slice_util.isSliceContinous(x.shape, begin, size)) return null;
    pieces.push({ offset: slice_util.computeFlatOffset(begin, strides), shape: outShape ?? size });
    begin[axis] += s;
  }
  return pieces;
}

function stockOr(stock: KernelConfig | undefined, name: string): KernelFunc {
  if (!stock) throw new Error(`accel: no stock ${name} kernel registered for wasm`);
  return stock.kernelFunc;
}

export function sliceAliasKernel(backendName: string, stock: KernelConfig | undefined): KernelConfig {
  const fallback = stockOr(stock, 'Slice');
  const kernelFunc = (args: Args): TensorInfo => {
    const { x } = args.inputs;
    if (usable(x)) {
      const [begin, size] = slice_util.parseSliceParams(x as never, args.attrs.begin as number[], args.attrs.size as number[]);
      if (util.sizeFromShape(size) > 0 && slice_util.isSliceContinous(x.shape, begin, size)) {
        const offset = slice_util.computeFlatOffset(begin, util.computeStrides(x.shape));
        return contiguousPieces(args.backend, x, [{ offset, shape: size }])[0];
      }
    }
    return fallback(args as never) as TensorInfo;
  };
  return { kernelName: 'Slice', backendName, kernelFunc: kernelFunc as unknown as KernelFunc };
}

export function splitVAliasKernel(backendName: string, stock: KernelConfig | undefined): KernelConfig {
  const fallback = stockOr(stock, 'SplitV');
  const kernelFunc = (args: Args): TensorInfo[] => {
    const { x } = args.inputs;
    if (usable(x)) {
      const axis = util.parseAxisParam(args.attrs.axis as number, x.shape)[0];
      const sizes = backend_util.prepareSplitSize(x as never, args.attrs.numOrSizeSplits as number[], axis);
      const pieces = axisPieces(x, axis, sizes);
      if (pieces) return contiguousPieces(args.backend, x, pieces);
    }
    return fallback(args as never) as TensorInfo[];
  };
  return { kernelName: 'SplitV', backendName, kernelFunc: kernelFunc as unknown as KernelFunc };
}

export function unpackAliasKernel(backendName: string, stock: KernelConfig | undefined): KernelConfig {
  const fallback = stockOr(stock, 'Unpack');
  const kernelFunc = (args: Args): TensorInfo[] => {
    const x = args.inputs.value;
    if (usable(x)) {
      let axis = args.attrs.axis as number;
      if (axis < 0) axis += x.shape.length;
      const outShape = x.shape.filter((_, i) => i !== axis);
      const pieces = axisPieces(x, axis, new Array<number>(x.shape[axis]).fill(1), outShape);
      if (pieces && pieces.length > 0) return contiguousPieces(args.backend, x, pieces);
    }
    return fallback(args as never) as TensorInfo[];
  };
  return { kernelName: 'Unpack', backendName, kernelFunc: kernelFunc as unknown as KernelFunc };
}

/** The three copy-free kernels for tfjs-backend-wasm, each delegating unusual cases to `stock(name)`. */
export function sliceAliasKernels(backendName: string, stock: (name: string) => KernelConfig | undefined): KernelConfig[] {
  return [
    sliceAliasKernel(backendName, stock('Slice')),
    splitVAliasKernel(backendName, stock('SplitV')),
    unpackAliasKernel(backendName, stock('Unpack')),
  ];
}
