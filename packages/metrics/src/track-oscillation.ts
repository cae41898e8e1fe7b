import * as tf from '@tensorflow/tfjs-core';
import type { Tensor } from '@tensorflow/tfjs-core';

export interface TrackOscillationOptions {
  /** EMA momentum `m` of the oscillation frequency (reference default 0.01). */
  momentum?: number;
  /** Freeze entries whose EMA frequency exceeds this (0 disables freezing; Nagel recommends ≥ 2-3× m). */
  freezeThreshold?: number;
  /** Freeze at round(EMA of the code) instead of the current code (reference default true). */
  useEmaXInt?: boolean;
}

export interface TrackOscillationCallOptions {
  /** Apply freezing only; no statistics are updated (the reference's `skip_tracking`, also eval mode). */
  skipTracking?: boolean;
}

/**
 * Oscillation tracker of Nagel et al. 2022 ("Overcoming Oscillations in QAT"), as shipped in the OFQ
 * reference (docs/algorithm.md §6.5), with optional oscillation-driven freezing. Feed it the integer codes of a
 * weight once per optimizer step. An oscillation is a code change opposite in direction to that
 * entry's previous change. All arithmetic is float32 in the reference's order, so the state matches
 * the reference bit for bit.
 *
 * The tracker owns its state tensors (read them through the getters, do not dispose them) and
 * releases them in `dispose()`.
 */
export class TrackOscillation {
  readonly momentum: number;
  readonly freezeThreshold: number;
  readonly useEmaXInt: boolean;

  private prevXInt: Tensor | null = null;
  private prevSwitchDirT: Tensor | null = null;
  private emaOscillationT: Tensor | null = null;
  private totalOscillationT: Tensor | null = null;
  private oscillatedSumT: Tensor | null = null;
  private frozenT: Tensor | null = null;
  private frozenXIntT: Tensor | null = null;
  private emaXIntT: Tensor | null = null;
  private iters = 0;

  constructor(o: TrackOscillationOptions = {}) {
    const { momentum = 0.01, freezeThreshold = 0, useEmaXInt = true } = o;
    if (!(momentum > 0 && momentum <= 1)) throw new RangeError(`TrackOscillation: momentum must be in (0, 1], got ${momentum}`);
    if (!(freezeThreshold >= 0)) throw new RangeError(`TrackOscillation: freezeThreshold must be >= 0, got ${freezeThreshold}`);
    this.momentum = momentum;
    this.freezeThreshold = freezeThreshold;
    this.useEmaXInt = useEmaXInt;
  }

  /** EMA oscillation frequency per entry (null before the first call). */
  get emaOscillation(): Tensor | null {
    return this.emaOscillationT;
  }
  /** Cumulative oscillation count per entry. */
  get totalOscillation(): Tensor | null {
    return this.totalOscillationT;
  }
  /** Direction (−1, 0, +1) of each entry's last code change. */
  get prevSwitchDir(): Tensor | null {
    return this.prevSwitchDirT;
  }
  /** Codes seen at the last tracked call. */
  get previousXInt(): Tensor | null {
    return this.prevXInt;
  }
  /** Oscillations counted at the last tracked call (0 before the first). */
  get oscillatedSum(): number {
    return this.oscillatedSumT ? this.oscillatedSumT.dataSync()[0] : 0;
  }
  /** `oscillatedSum` as a scalar tensor owned by the tracker (no device read). */
  get oscillatedSumTensor(): Tensor | null {
    return this.oscillatedSumT;
  }
  /** Number of tracked calls. */
  get itersSinceReset(): number {
    return this.iters;
  }
  /** Frozen entries (bool); null unless freezing is on and a call happened. Sticky once set. */
  get frozen(): Tensor | null {
    return this.frozenT;
  }
  /** Values frozen entries are pinned to. */
  get frozenXInt(): Tensor | null {
    return this.frozenXIntT;
  }
  /** EMA of the codes (only with freezing and `useEmaXInt`). */
  get emaXInt(): Tensor | null {
    return this.emaXIntT;
  }

  /**
   * Tracks one step of codes `xInt` (integer-valued, any shape, constant across calls) and returns the
   * codes with frozen entries replaced by their frozen values (a new tensor the caller owns).
   */
  call(xInt: Tensor, o: TrackOscillationCallOptions = {}): Tensor {
    if (this.prevXInt && !tf.util.arraysEqual(this.prevXInt.shape, xInt.shape)) {
      throw new Error(`TrackOscillation: shape [${xInt.shape}] does not match the tracked shape [${this.prevXInt.shape}]`);
    }
    const m = this.momentum;
    // Freezing is applied before tracking, so tracking sees the frozen values (reference order).
    const x = tf.tidy(() => {
      const xf = xInt.dtype === 'float32' ? xInt.clone() : tf.cast(xInt, 'float32');
      return this.frozenT ? tf.where(this.frozenT, this.frozenXIntT!, xf) : xf;
    });
    if (o.skipTracking) return x;

    if (!this.prevXInt) {
      this.prevSwitchDirT = tf.keep(tf.zerosLike(x));
      this.prevXInt = tf.keep(x.clone());
      this.emaOscillationT = tf.keep(tf.zerosLike(x));
      this.totalOscillationT = tf.keep(tf.zerosLike(x));
    }
    if (!this.frozenT && this.freezeThreshold > 0) {
      this.frozenT = tf.zeros(x.shape, 'bool');
      this.frozenXIntT = tf.keep(tf.zerosLike(x));
      if (this.useEmaXInt) this.emaXIntT = tf.keep(x.clone());
    }

    const next = tf.tidy(() => {
      const delta = tf.round(tf.sub(this.prevXInt!, x)); // normally in {-1, 0, 1}
      const dir = tf.sign(delta);
      const switched = tf.notEqual(delta, 0);
      const osc = tf.cast(tf.equal(tf.mul(this.prevSwitchDirT!, dir), -1), 'float32');
      const ema = tf.add(tf.mul(tf.scalar(m), osc), tf.mul(tf.scalar(1 - m), this.emaOscillationT!));
      const state: Record<string, Tensor> = {
        ema,
        prevDir: tf.where(switched, dir, this.prevSwitchDirT!),
        oscSum: tf.sum(osc),
        total: tf.add(this.totalOscillationT!, osc),
      };
      if (this.freezeThreshold > 0) {
        const freeze = tf.greater(ema, this.freezeThreshold);
        state.frozen = tf.logicalOr(this.frozenT!, freeze);
        if (this.useEmaXInt) {
          // frozen_x_int takes round(ema_x_int) BEFORE ema_x_int is updated with this step's codes.
          state.frozenX = tf.where(freeze, tf.round(this.emaXIntT!), this.frozenXIntT!);
          state.emaX = tf.add(tf.mul(tf.scalar(m), x), tf.mul(tf.scalar(1 - m), this.emaXIntT!));
        } else {
          state.frozenX = tf.where(freeze, x, this.frozenXIntT!);
        }
      }
      return state;
    });

    tf.dispose([this.emaOscillationT!, this.prevSwitchDirT!, this.totalOscillationT!, this.prevXInt]);
    this.emaOscillationT = next.ema;
    this.prevSwitchDirT = next.prevDir;
    this.totalOscillationT = next.total;
    this.prevXInt = tf.keep(x.clone());
    if (this.oscillatedSumT) this.oscillatedSumT.dispose();
    this.oscillatedSumT = next.oscSum;
    if (next.frozen) {
      this.frozenT!.dispose();
      this.frozenT = next.frozen;
      this.frozenXIntT!.dispose();
      this.frozenXIntT = next.frozenX;
    }
    if (next.emaX) {
      this.emaXIntT!.dispose();
      this.emaXIntT = next.emaX;
    }
    this.iters += 1;
    return x;
  }

  /** Releases every state tensor; the tracker starts afresh on the next call. */
  dispose(): void {
    tf.dispose(
      [
        this.prevXInt,
        this.prevSwitchDirT,
        this.emaOscillationT,
        this.totalOscillationT,
        this.oscillatedSumT,
        this.frozenT,
        this.frozenXIntT,
        this.emaXIntT,
      ].filter((t): t is Tensor => t !== null),
    );
    this.prevXInt = this.prevSwitchDirT = this.emaOscillationT = this.totalOscillationT = null;
    this.oscillatedSumT = this.frozenT = this.frozenXIntT = this.emaXIntT = null;
    this.iters = 0;
  }
}
