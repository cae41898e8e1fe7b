/**
 * Heap aliases for tfjs-backend-wasm: a tensor whose data is a sub-range of another tensor's
 * heap block, with the lifetimes tfjs-backend-wasm's allocator does not model.
 *
 * The backend frees a tensor with `_free(memoryOffset)`; an alias's memoryOffset points inside a
 * block it does not own, and `_free` of an interior pointer corrupts the heap. So the backend
 * instance's `disposeData` is wrapped:
 * - an alias is released like any tensor (its own refCount, so Reshape/Identity sharing and
 *   `force` from the engine's cross-backend moves work), but instead of `_free` it unregisters
 *   the id on the C++ side and drops one reference on its block;
 * - the owner of a block with live aliases is released the same way (gone from dataIdMap and
 *   the C++ registry, so tfjs sees it disposed, moved or force-disposed exactly as before), but
 *   its memory is only `_free`d when the last alias goes;
 * - everything else goes to the stock disposeData untouched.
 * The owner's refCount is never inflated, so `refCount()` (read by the engine when it moves
 * data to another backend) stays exact. An alias of an alias points at the same block.
 *
 * The wrapper is an own property of the backend instance; it is installed lazily by the first
 * aliasing kernel call (so a backend instance created after `tf.engine().reset()` gets one too)
 * and removed, restoring the stock method exactly, once uninstall was asked for AND no alias is
 * alive (disposing an alias after uninstall still goes through the wrapper).
 */
import type { DataId, DataType, KernelBackend, TensorInfo } from '@tensorflow/tfjs-core';

interface WasmEntry {
  id: number;
  memoryOffset: number;
  shape: number[];
  dtype: DataType;
  refCount: number;
}

/** The members of tfjs-backend-wasm 4.22's BackendWasm used here. */
interface WasmInternals {
  wasm: {
    _free(ptr: number): void;
    tfjs: { registerTensor(id: number, size: number, memoryOffset: number): void; disposeData(id: number): void };
  };
  dataIdMap: {
    get(id: DataId): WasmEntry | undefined;
    set(id: DataId, e: WasmEntry): void;
    has(id: DataId): boolean;
    delete(id: DataId): void;
  };
  dataIdNextNumber: number;
  disposeData(dataId: DataId, force?: boolean): boolean;
}

/** One malloc'd heap block that aliases point into. */
interface Block {
  /** The `_malloc` pointer, the only address ever passed to `_free`. */
  readonly memoryOffset: number;
  readonly bytes: number;
  /** The owning tensor's dataId while its entry is alive (null once tfjs released it). */
  owner: DataId | null;
  liveAliases: number;
}

interface AliasState {
  readonly backend: WasmInternals;
  /** What `disposeData` was before wrapping: an own property (restored as is) or the prototype's. */
  readonly hadOwn: boolean;
  readonly original: WasmInternals['disposeData'];
  readonly wrapper: WasmInternals['disposeData'];
  /** Alias dataId → its block. */
  readonly aliases: Map<DataId, Block>;
  /** Owner dataId → its block, only while the block has live aliases. */
  readonly owned: Map<DataId, Block>;
  /** Uninstall asked for the stock disposeData back (done when no alias remains). */
  released: boolean;
}

const states = new WeakMap<object, AliasState>();
/** Every wrapped instance (there is one wasm backend at a time, but `tf.engine().reset()` makes a new one). */
const wrapped = new Set<AliasState>();

function sizeOf(shape: readonly number[]): number {
  let s = 1;
  for (const d of shape) s *= d;
  return s;
}

/** Drops one tfjs reference of an entry; true when the entry is gone from the backend (stock semantics). */
function releaseEntry(b: WasmInternals, dataId: DataId, force: boolean): boolean {
  const data = b.dataIdMap.get(dataId)!;
  data.refCount--;
  if (!force && data.refCount > 0) return false;
  b.wasm.tfjs.disposeData(data.id);
  b.dataIdMap.delete(dataId);
  return true;
}

function dropAlias(s: AliasState, block: Block): void {
  block.liveAliases--;
  if (block.liveAliases > 0) return;
  if (block.owner) s.owned.delete(block.owner); // the owner lives on as a plain tensor
  else s.backend.wasm._free(block.memoryOffset);
  maybeRestore(s);
}

function maybeRestore(s: AliasState): void {
  if (!s.released || s.aliases.size > 0) return;
  const b = s.backend as unknown as Record<string, unknown>;
  // Only undo our own wrapping; if someone wrapped on top of us, ours stays (it is transparent).
  if (b.disposeData !== s.wrapper) return;
  if (s.hadOwn) b.disposeData = s.original;
  else delete b.disposeData;
  states.delete(s.backend);
  wrapped.delete(s);
}

function stateOf(backend: KernelBackend): AliasState {
  const b = backend as unknown as WasmInternals;
  const existing = states.get(b);
  if (existing) {
    existing.released = false;
    return existing;
  }
  const hadOwn = Object.prototype.hasOwnProperty.call(b, 'disposeData');
  const original = b.disposeData;
  const aliases = new Map<DataId, Block>();
  const owned = new Map<DataId, Block>();
  const s: AliasState = {
    backend: b,
    hadOwn,
    original,
    aliases,
    owned,
    released: false,
    wrapper(dataId: DataId, force = false): boolean {
      const aliasBlock = aliases.get(dataId);
      if (aliasBlock) {
        if (!releaseEntry(b, dataId, force)) return false;
        aliases.delete(dataId);
        dropAlias(s, aliasBlock);
        return true;
      }
      const ownBlock = owned.get(dataId);
      if (ownBlock) {
        if (!releaseEntry(b, dataId, force)) return false;
        owned.delete(dataId);
        ownBlock.owner = null; // memory now belongs to the aliases; the last one frees it
        return true;
      }
      return original.call(b, dataId, force);
    },
  };
  states.set(b, s);
  wrapped.add(s);
  (b as unknown as Record<string, unknown>).disposeData = s.wrapper;
  return s;
}

/**
 * New tensors that alias `x`'s heap data: output i covers elements [offsets[i], offsets[i] + size(shapes[i]))
 * of `x` in row-major order. The caller guarantees the ranges lie inside `x` and are non-empty.
 */
export function makeAliases(backend: KernelBackend, x: TensorInfo, offsets: number[], shapes: number[][]): TensorInfo[] {
  if (offsets.length === 0) return [];
  const s = stateOf(backend);
  const b = s.backend;
  const xData = b.dataIdMap.get(x.dataId); // may move x onto this backend first, as stock kernels do
  if (!xData) throw new Error('accel: tensor data not found on the wasm backend (disposed?)');
  let block = s.aliases.get(x.dataId) ?? s.owned.get(x.dataId);
  if (!block) {
    block = { memoryOffset: xData.memoryOffset, bytes: sizeOf(xData.shape) * 4, owner: x.dataId, liveAliases: 0 };
    s.owned.set(x.dataId, block);
  }
  const bytesPerElement = 4; // float32 and int32 only (checked by the kernels)
  return offsets.map((offset, i) => {
    const shape = shapes[i];
    const id = b.dataIdNextNumber++;
    const dataId = { id };
    const memoryOffset = xData.memoryOffset + offset * bytesPerElement;
    b.dataIdMap.set(dataId, { id, memoryOffset, shape: shape.slice(), dtype: x.dtype, refCount: 1 });
    b.wasm.tfjs.registerTensor(id, sizeOf(shape), memoryOffset);
    s.aliases.set(dataId, block!);
    block!.liveAliases++;
    return { dataId, shape: shape.slice(), dtype: x.dtype };
  });
}

/** Bytes of the heap block that aliasing `x` would keep alive (x's own size if it owns its data). */
export function rootBytes(backend: KernelBackend, x: TensorInfo): number {
  const s = states.get(backend);
  const block = s?.aliases.get(x.dataId);
  return block ? block.bytes : sizeOf(x.shape) * 4;
}

/**
 * Uninstall: give every wrapped wasm backend instance (the one installed on, and any created
 * since by `tf.engine().reset()`) its stock `disposeData` back now if no alias is alive on it,
 * else as soon as the last one is disposed. Instances already disposed by a reset are forgotten.
 */
export function releaseSliceAliasing(): void {
  for (const s of [...wrapped]) {
    if (!(s.backend as unknown as { wasm: unknown }).wasm) {
      wrapped.delete(s); // backend disposed: its heap and aliases are gone with it
      continue;
    }
    s.released = true;
    maybeRestore(s);
  }
}

/** Diagnostics (tests): live aliases and blocks on a backend instance, and whether it is wrapped. */
export function sliceAliasStats(backend: KernelBackend): { wrapped: boolean; liveAliases: number; ownersAlive: number } {
  const s = states.get(backend);
  if (!s) return { wrapped: false, liveAliases: 0, ownersAlive: 0 };
  return { wrapped: true, liveAliases: s.aliases.size, ownersAlive: s.owned.size };
}
