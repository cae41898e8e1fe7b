/**
 * Elementwise unary ops on ONNX Runtime (MLAS's vectorised Erf/Exp), on caller-owned
 * Float32Arrays, zero-copy like OrtMatMul. Only ops where a measurement showed a gain over
 * tfjs-wasm live here: Erf ≈7.6× and Exp ≈3× on 1.2 M elements; Multiply was 5× slower, so it
 * stays stock (see README).
 */
import { encodeONNXModel } from './onnx-proto.js';
import type { OrtBinding, OrtNativeSession } from './ort-binding.js';

export type OrtUnaryOp = 'Erf' | 'Exp';

export class OrtUnary {
  private readonly sessions = new Map<OrtUnaryOp, OrtNativeSession>();

  constructor(
    private readonly ort: OrtBinding,
    private readonly sessionOptions: object,
  ) {}

  private session(op: OrtUnaryOp): OrtNativeSession {
    let s = this.sessions.get(op);
    if (!s) {
      const model = encodeONNXModel({
        opsets: { '': 17 },
        nodes: [{ opType: op, inputs: ['x'], outputs: ['y'] }],
        inputs: [{ name: 'x', dims: ['n'] }],
        outputs: [{ name: 'y', dims: ['n'] }],
      });
      s = this.ort.createSession(model, this.sessionOptions);
      this.sessions.set(op, s);
    }
    return s;
  }

  /** out[i] = op(x[i]); both arrays have the same non-zero length. */
  run(op: OrtUnaryOp, x: Float32Array, out: Float32Array): void {
    const T = this.ort.Tensor;
    this.session(op).run({ x: new T('float32', x, [x.length]) }, { y: new T('float32', out, [out.length]) }, {});
  }

  dispose(): void {
    for (const s of this.sessions.values()) s.dispose();
    this.sessions.clear();
  }
}
