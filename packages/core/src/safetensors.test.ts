import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_HEADER_BYTES, SafetensorsError, readSafetensors, toFloat32, writeSafetensors } from './safetensors.js';
import { loadGoldenBytes } from './testing.js';

function withHeader(json: string, data = new Uint8Array(0), declaredLen?: number): Uint8Array {
  const h = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + h.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(declaredLen ?? h.length), true);
  out.set(h, 8);
  out.set(data, 8 + h.length);
  return out;
}

describe('safetensors', () => {
  it('round-trips every supported dtype with metadata', () => {
    const tensors = {
      f64: { shape: [2], data: new Float64Array([1.5, -2e300]) },
      f32: { shape: [2, 3], data: new Float32Array([1, 2, 3, 4, 5, -6.25]) },
      f16: { shape: [2], data: new Uint16Array([0x3c00, 0xc000]), dtype: 'F16' as const },
      bf16: { shape: [1], data: new Uint16Array([0x3f80]), dtype: 'BF16' as const },
      i64: { shape: [2], data: new BigInt64Array([5n, -7n]) },
      i32: { shape: [3], data: new Int32Array([-1, 0, 2147483647]) },
      i16: { shape: [1], data: new Int16Array([-300]) },
      i8: { shape: [2], data: new Int8Array([-128, 127]) },
      u8: { shape: [2], data: new Uint8Array([0, 255]) },
      u16: { shape: [1], data: new Uint16Array([65535]) },
      u32: { shape: [1], data: new Uint32Array([4294967295]) },
      bool: { shape: [3], data: new Uint8Array([1, 0, 1]), dtype: 'BOOL' as const },
      scalar: { shape: [], data: new Float32Array([3.5]) },
      empty: { shape: [0, 4], data: new Float32Array(0) },
    };
    const bytes = writeSafetensors(tensors, { format: 'pt' });
    const file = readSafetensors(bytes);
    expect(file.metadata).toEqual({ format: 'pt' });
    for (const [name, t] of Object.entries(tensors)) {
      const e = file.tensors.get(name)!;
      expect(e.shape).toEqual(t.shape);
      expect(Array.from(e.data as ArrayLike<number>)).toEqual(Array.from(t.data as ArrayLike<number>));
      expect(e.data.constructor).toBe(t.data.constructor);
    }
    expect(Array.from(toFloat32(file.tensors.get('f16')!))).toEqual([1, -2]);
    expect(Array.from(toFloat32(file.tensors.get('bf16')!))).toEqual([1]);
    expect(Array.from(toFloat32(file.tensors.get('i64')!))).toEqual([5, -7]);
  });

  it('round-trips random float32 tensors (property)', () => {
    fc.assert(
      fc.property(
        fc.dictionary(fc.string({ minLength: 1, maxLength: 8 }).filter((s) => s !== '__metadata__'),
          fc.array(fc.float({ noNaN: true }), { maxLength: 20 })),
        (dict) => {
          const input = Object.fromEntries(Object.entries(dict).map(([k, v]) => [k, { shape: [v.length], data: new Float32Array(v) }]));
          const back = readSafetensors(writeSafetensors(input));
          for (const [k, v] of Object.entries(input)) expect(Array.from(back.tensors.get(k)!.data as Float32Array)).toEqual(Array.from(v.data));
        },
      ),
      { numRuns: 50 },
    );
  });

  it('reads from a Node Buffer (a view into a shared pool) without picking up foreign bytes', () => {
    const bytes = writeSafetensors({ a: { shape: [3], data: new Float32Array([1, 2, 3]) }, b: { shape: [1], data: new Int32Array([7]) } });
    const pooled = Buffer.from(bytes); // small Buffers live inside a larger shared ArrayBuffer
    const f = readSafetensors(pooled);
    expect(Array.from(f.tensors.get('a')!.data as Float32Array)).toEqual([1, 2, 3]);
    expect(f.tensors.get('a')!.data.length).toBe(3);
    expect(Array.from(f.tensors.get('b')!.data as Int32Array)).toEqual([7]);
  });

  it('reads the reference DeiT checkpoint', () => {
    const f = readSafetensors(loadGoldenBytes('deit_tiny_fp.safetensors'));
    expect(f.tensors.get('cls_token')!.shape).toEqual([1, 1, 48]);
    expect(f.tensors.get('cls_token')!.dtype).toBe('F32');
  });

  const bad: Array<[string, Uint8Array, RegExp]> = [
    ['shorter than 8 bytes', new Uint8Array(5), /shorter than the 8-byte header length/],
    ['oversized header length', withHeader('{}', undefined, MAX_HEADER_BYTES + 1), /exceeds/],
    ['header past the end', withHeader('{}', undefined, 500), /truncated file/],
    ['non-JSON header', withHeader('{not json'), /not valid UTF-8 JSON/],
    ['header is an array', withHeader('[1,2]'), /must be a JSON object/],
    ['unknown dtype', withHeader('{"a":{"dtype":"Q4","shape":[1],"data_offsets":[0,1]}}', new Uint8Array(1)), /unsupported dtype/],
    ['negative shape', withHeader('{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}', new Uint8Array(4)), /invalid shape/],
    ['data beyond the file', withHeader('{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}', new Uint8Array(8)), /truncated file/],
    ['size mismatch', withHeader('{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}', new Uint8Array(8)), /needs 12 bytes/],
    ['overlap', withHeader('{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}', new Uint8Array(8)), /overlaps/],
    ['trailing bytes', withHeader('{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}', new Uint8Array(12)), /trailing bytes/],
    ['bad offsets', withHeader('{"a":{"dtype":"F32","shape":[1],"data_offsets":[4]}}', new Uint8Array(4)), /invalid data_offsets/],
    ['non-string metadata', withHeader('{"__metadata__":{"x":1}}'), /must be a string/],
  ];
  for (const [what, bytes, msg] of bad) {
    it(`rejects a file with ${what}`, () => {
      expect(() => readSafetensors(bytes)).toThrow(SafetensorsError);
      expect(() => readSafetensors(bytes)).toThrow(msg);
    });
  }

  it('rejects a truncated copy of a real checkpoint at any cut', () => {
    const good = writeSafetensors({ w: { shape: [4, 4], data: new Float32Array(16).fill(1) } });
    for (let cut = 0; cut < good.length; cut += 7) expect(() => readSafetensors(good.subarray(0, cut))).toThrow(SafetensorsError);
  });

  it('the writer refuses inconsistent entries', () => {
    expect(() => writeSafetensors({ a: { shape: [3], data: new Float32Array(2) } })).toThrow(/2 values for shape \[3\]/);
    expect(() => writeSafetensors({ a: { shape: [1], data: new Float32Array(1), dtype: 'F16' } })).toThrow(/declared F16/);
  });
});
