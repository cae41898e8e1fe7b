// The frame around Swin's window attention (torchvision `shifted_window_attention`): pad to whole
// windows, cyclic shift, partition into `[B·nW, N, C]`, and back; plus the logits bias (relative
// position bias, then the shifted-window mask). Shared by the FP and both quantized attentions.
import * as tf from '@tensorflow/tfjs-core';
import type { Tensor } from '@tensorflow/tfjs-core';
import { padTo, roll2d, shiftedWindowMask, windowPartition, windowReverse } from './windows.js';
import type { RelativePositionBias } from './relative-position-bias.js';

export class WindowFrame {
  private readonly masks = new Map<number, Tensor>();
  private shiftNow: number;

  constructor(
    readonly windowSize: number,
    /** The configured shift (ws/2 on odd blocks, 0 on even ones). */
    readonly configuredShift: number,
  ) {
    this.shiftNow = configuredShift;
  }

  /**
   * The shift in use. As in the reference, a forward on a map that one window covers sets it to 0
   * for good (golden README quirk 7); a converted model keeps its source's state.
   */
  get shift(): number {
    return this.shiftNow;
  }

  set shift(s: number) {
    this.shiftNow = s;
  }

  private maskFor(padded: number): Tensor {
    let m = this.masks.get(padded);
    if (!m) {
      const ws = this.windowSize;
      const nw = (padded / ws) ** 2;
      m = tf.keep(tf.tensor3d(shiftedWindowMask(padded, ws, this.shiftNow), [nw, 1, ws ** 4]));
      this.masks.set(padded, m);
    }
    return m;
  }

  /**
   * Runs `attend` on the windows of `x` `[B, H, W, C]` and returns `[B, H, W, C]`. `attend` gets the
   * windows `[B·nW, N, C]` and a function adding the relative position bias and mask to its logits.
   */
  run(x: Tensor, bias: RelativePositionBias, attend: (windows: Tensor, addBias: (logits: Tensor) => Tensor) => Tensor): Tensor {
    if (x.rank !== 4) throw new Error(`Swin window attention: input must be [B, H, W, C], got [${x.shape}]`);
    const ws = this.windowSize;
    const [b, h, w] = x.shape as number[];
    const padded = Math.max(Math.ceil(h / ws), Math.ceil(w / ws)) * ws;
    if (h !== w) throw new Error(`Swin window attention: square feature maps only, got ${h}×${w}`);
    if (ws >= padded) this.shiftNow = 0;
    const shift = this.shiftNow;
    return tf.tidy(() => {
      let t = padTo(x, padded);
      if (shift > 0) t = roll2d(t, -shift);
      const windows = windowPartition(t, ws);
      const nw = (padded / ws) ** 2;
      const addBias = (logits: Tensor): Tensor => {
        const [bn, heads, n] = logits.shape as number[];
        let out = tf.add(logits, tf.reshape(bias.apply(), [1, heads, n, n]));
        if (shift > 0) out = tf.reshape(tf.add(tf.reshape(out, [bn / nw, nw, heads, n * n]), this.maskFor(padded)), [bn, heads, n, n]);
        return out;
      };
      let y = windowReverse(attend(windows, addBias), ws, b, padded, padded);
      if (shift > 0) y = roll2d(y, shift);
      return padded === h ? y : tf.slice(y, [0, 0, 0, 0], [b, h, w, -1]);
    });
  }

  dispose(): void {
    for (const m of this.masks.values()) m.dispose();
    this.masks.clear();
  }
}
