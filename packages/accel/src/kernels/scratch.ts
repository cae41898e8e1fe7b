/**
 * A grow-only Float32Array in JS memory for a kernel's temporaries (patch matrices). JS memory,
 * not the wasm heap: allocating it never detaches the heap views a kernel holds.
 */
export class Scratch {
  private buf = new Float32Array(0);

  /** A view of exactly `n` floats (contents undefined); valid until the next `get` on this Scratch. */
  get(n: number): Float32Array {
    if (this.buf.length < n) this.buf = new Float32Array(Math.max(n, Math.ceil(this.buf.length * 1.5)));
    return this.buf.subarray(0, n);
  }

  dispose(): void {
    this.buf = new Float32Array(0);
  }
}
