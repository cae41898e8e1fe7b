import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { readSafetensors, writeSafetensors, isOfqError, type QuantizedWeights } from '@ofq/core';
import { useBackend } from '@ofq/core/testing';
import { PACKED_VERSION, exportDeiT, loadPackedModel, loadPackedModelSync, readPackedModel, writePackedModel, type PackedModelContent } from './index.js';
import { trainedDeiT } from './test-support.js';

function record(bits: number, codes: number[], shape: number[]): QuantizedWeights {
  const n = 2 ** (bits - 1);
  return { kind: 'statsq', codes: Int32Array.from(codes), scales: new Float32Array(shape[shape.length - 1]).fill(0.25), offset: 0.5, divisor: n, bits, codeRange: [-n, n - 1], shape, channelAxis: -1 };
}

function tiny(): PackedModelContent {
  return {
    model: { type: 'deit', config: { embedDim: 2 } },
    weights: new Map([['w', record(3, [-4, 3, 0, -1, 2, 1], [3, 2])]]),
    floats: new Map([['b', { shape: [2], data: new Float32Array([1.5, -2]) }]]),
    input: { mean: [0.1307], std: [0.3081] },
  };
}

/** Rewrites the header JSON of a safetensors file (same data section). */
function editHeader(bytes: Uint8Array, edit: (h: Record<string, any>) => void): Uint8Array {
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
  edit(header);
  const json = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + bytes.length - 8 - n);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(bytes.subarray(8 + n), 8 + json.length);
  return out;
}

function expectPackedError(fn: () => unknown, re: RegExp): void {
  try {
    fn();
  } catch (e) {
    expect(isOfqError(e)).toBe(true);
    expect((e as { code: string }).code).toBe('E_PACKED_MODEL');
    expect((e as Error).message).toMatch(re);
    return;
  }
  throw new Error(`expected a PackedModelError matching ${re}`);
}

describe('packed format: writer and reader', () => {
  it('round-trips weights (codes, scales, grid), floats, model and input; is a plain safetensors file', () => {
    const bytes = writePackedModel(tiny());
    const f = readPackedModel(bytes);
    expect(f.version).toBe(PACKED_VERSION);
    expect(f.byteLength).toBe(bytes.byteLength);
    const w = f.weights.get('w')!;
    expect(Array.from(w.codes)).toEqual([-4, 3, 0, -1, 2, 1]);
    expect({ ...w, codes: null, scales: null }).toMatchObject({ kind: 'statsq', bits: 3, codeRange: [-4, 3], offset: 0.5, divisor: 4, shape: [3, 2], channelAxis: -1 });
    expect(Array.from(f.floats.get('b')!.data)).toEqual([1.5, -2]);
    expect(f.input).toEqual({ mean: [0.1307], std: [0.3081] });
    const st = readSafetensors(bytes);
    expect(st.tensors.get('w.codes')).toMatchObject({ dtype: 'U8', shape: [3] }); // 6 codes × 3 bits = 18 bits
    expect(st.tensors.get('w.scales')).toMatchObject({ dtype: 'F32', shape: [2] });
    expect(st.metadata.format).toBe('ofq-packed');
  });

  it('rejects truncated files at every length', () => {
    const bytes = writePackedModel(tiny());
    for (const cut of [0, 7, 8, 20, bytes.length - 12, bytes.length - 1]) expectPackedError(() => readPackedModel(bytes.subarray(0, cut)), /truncated|shorter|bytes/);
  });

  it('rejects tampered headers with a message naming the field', () => {
    const bytes = writePackedModel(tiny());
    const cases: Array<[(h: Record<string, any>) => void, RegExp]> = [
      [(h) => (h.__metadata__.format = 'pt'), /format is "pt"/],
      [(h) => (h.__metadata__['ofq.version'] = '2'), /version 2 is newer/],
      [(h) => (h.__metadata__['ofq.weights'] = '{"w":'), /ofq.weights.*not valid JSON/],
      [(h) => (h.__metadata__['ofq.weights'] = JSON.stringify({ w: { ...JSON.parse(h.__metadata__['ofq.weights']).w, bits: 9 } })), /"w"\]: bits must be an integer in \[1, 8\], got 9/],
      [(h) => (h.__metadata__['ofq.weights'] = JSON.stringify({ w: { ...JSON.parse(h.__metadata__['ofq.weights']).w, bits: 2 } })), /codeRange \[-4,3\] has 8 codes, more than 2 bits hold/],
      [(h) => (h.__metadata__['ofq.weights'] = JSON.stringify({ w: { ...JSON.parse(h.__metadata__['ofq.weights']).w, shape: [6, 2] } })), /12 codes of 3 bits need 5 bytes, got 3/],
      [(h) => (h.__metadata__['ofq.weights'] = JSON.stringify({ w: { ...JSON.parse(h.__metadata__['ofq.weights']).w, channelAxis: 0 } })), /w.scales" must be F32 \[3\]/],
      [(h) => (h.__metadata__['ofq.weights'] = '{}'), /"w.codes" belongs to no weight/],
      [(h) => (h.__metadata__['ofq.model'] = '{"type":"onnx"}'), /ofq.model.type must be "deit" or "layers"/],
      [(h) => delete h.__metadata__['ofq.model'], /no "ofq.model"/],
      [(h) => (h['w.codes'].dtype = 'I8'), /"w.codes" must be a 1-D U8 tensor/],
      [(h) => (h['w.codes'].data_offsets[1] += 1), /data_offsets|needs/],
    ];
    for (const [edit, re] of cases) expectPackedError(() => readPackedModel(editHeader(bytes, edit)), re);
  });

  it('rejects tampered data: non-finite scales, dirty padding', () => {
    const bytes = writePackedModel(tiny());
    const st = readSafetensors(bytes);
    const scales = new Float32Array([0.25, NaN]);
    const redo = (codes: Uint8Array, s: Float32Array) =>
      writeSafetensors({ 'w.codes': { shape: [codes.length], data: codes }, 'w.scales': { shape: [2], data: s }, b: { shape: [2], data: new Float32Array([1.5, -2]) } }, st.metadata);
    const codes = st.tensors.get('w.codes')!.data as Uint8Array;
    expectPackedError(() => readPackedModel(redo(codes, scales)), /"w.scales"\[1\] is not finite/);
    const dirty = codes.slice();
    dirty[2] |= 0x80;
    expectPackedError(() => readPackedModel(redo(dirty, new Float32Array([0.25, 0.25]))), /padding bits/);
  });
});

describe('packed DeiT: shapes and grids are checked against the config', () => {
  beforeAll(() => useBackend('cpu'));
  const quant = { weightBits: 2, actBits: 2, qkr: true, method: 'ofq' as const };

  it('names the weight or tensor that does not fit', () => {
    const model = trainedDeiT(quant);
    const bytes = exportDeiT(model);
    model.dispose();
    const edits: Array<[(h: Record<string, any>) => void, RegExp]> = [
      [(h) => { const c = JSON.parse(h.__metadata__['ofq.model']); c.config.embedDim = 30; h.__metadata__['ofq.model'] = JSON.stringify(c); }, /needs \[|config needs/],
      [(h) => { const c = JSON.parse(h.__metadata__['ofq.model']); c.config.embedDim = 25; h.__metadata__['ofq.model'] = JSON.stringify(c); }, /ofq.model.config: .*embedDim 25 is not divisible/],
      [(h) => { const c = JSON.parse(h.__metadata__['ofq.model']); c.config.quant.weightBits = 3; h.__metadata__['ofq.model'] = JSON.stringify(c); }, /weight "blocks.0.attn.qk.weight" is statsq 2-bit .* the config needs statsq 3-bit/],
      [(h) => { const c = JSON.parse(h.__metadata__['ofq.model']); delete c.config.quant; h.__metadata__['ofq.model'] = JSON.stringify(c); }, /quant is missing/],
      [(h) => { const w = JSON.parse(h.__metadata__['ofq.weights']); w['blocks.0.mlp.fc1.weight'].kind = 'lsq'; h.__metadata__['ofq.weights'] = JSON.stringify(w); }, /"blocks.0.mlp.fc1.weight" is lsq 2-bit/],
      [(h) => { h['pos_embed'].shape = [1, 24, 18]; }, /"pos_embed" is \[1,24,18\], the config needs \[1,18,24\]/],
      [(h) => { h['extra'] = h['pos_embed']; }, /overlaps|unexpected tensor "extra"/],
    ];
    for (const [edit, re] of edits) expectPackedError(() => loadPackedModelSync(editHeader(bytes, edit)), re);
    const before = tf.memory().numTensors;
    expectPackedError(() => loadPackedModelSync(editHeader(bytes, (h) => { h['pos_embed'].shape = [1, 24, 18]; })), /pos_embed/);
    expect(tf.memory().numTensors).toBe(before); // a failed load frees what it built
  });
});

describe('loading from a URL', () => {
  beforeAll(() => useBackend('cpu'));
  it('fetches the bytes; an HTTP error names the URL and status', async () => {
    const model = trainedDeiT({ weightBits: 2, actBits: 2, qkr: true, method: 'ofq' });
    const bytes = exportDeiT(model);
    model.dispose();
    const urls: string[] = [];
    const fetch = async (url: string) => (urls.push(url), { ok: true, status: 200, arrayBuffer: async () => bytes.slice().buffer });
    const packed = await loadPackedModel(new URL('https://models.example/micro.ofq'), { fetch });
    expect(urls).toEqual(['https://models.example/micro.ofq']);
    expect(packed.config.embedDim).toBe(24);
    packed.dispose();
    const missing = async () => ({ ok: false, status: 404, arrayBuffer: async () => new ArrayBuffer(0) });
    await expect(loadPackedModel('/nope.ofq', { fetch: missing })).rejects.toThrow('packed model: fetching /nope.ofq failed with HTTP 404');
  });
});
