// Entry points: a packed DeiT from bytes or a URL (fetch; works in browsers and Node ≥ 18).
import { loadPackedDeiT, type PackedDeiT } from './deit-load.js';
import { packedFail } from './errors.js';
import { readPackedModel } from './packed-format.js';

export type PackedSource = Uint8Array | ArrayBuffer | string | URL;

export interface LoadOptions {
  /** Replaces the global `fetch` (tests, custom transports). */
  fetch?: (url: string) => Promise<{ ok: boolean; status: number; arrayBuffer(): Promise<ArrayBuffer> }>;
}

/** The bytes of a packed file: given directly, or fetched from a URL. */
export async function packedBytes(source: PackedSource, o: LoadOptions = {}): Promise<Uint8Array> {
  if (source instanceof Uint8Array) return source;
  if (source instanceof ArrayBuffer) return new Uint8Array(source);
  const url = String(source);
  const f = o.fetch ?? (globalThis.fetch as LoadOptions['fetch']);
  if (!f) packedFail(`cannot fetch ${url}: no fetch() here (pass the bytes instead)`);
  const res = await f(url);
  if (!res.ok) packedFail(`fetching ${url} failed with HTTP ${res.status}`);
  return new Uint8Array(await res.arrayBuffer());
}

/** A packed DeiT from bytes (synchronous). */
export function loadPackedModelSync(bytes: Uint8Array | ArrayBuffer): PackedDeiT {
  return loadPackedDeiT(readPackedModel(bytes));
}

/** A packed DeiT from bytes or a URL. */
export async function loadPackedModel(source: PackedSource, o: LoadOptions = {}): Promise<PackedDeiT> {
  return loadPackedModelSync(await packedBytes(source, o));
}
