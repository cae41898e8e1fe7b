import { CounterDraws } from './draws.js';
import { DataError } from './errors.js';

/** Epoch order settings. */
export interface SamplerOptions {
  seed: number;
  shuffle: boolean;
  /**
   * Repeated augmentation (timm `RepeatAugSampler`, DeiT-S W3/W4 use 3): each index appears `repeats`
   * times in a row, and the epoch keeps `floor(n / 256) * 256` samples. 0 or 1 = off.
   */
  repeats?: number;
  /** `selected_round` of RepeatAugSampler. */
  selectedRound?: number;
}

/**
 * The sample order of an epoch: a pure function of (seed, epoch). A shuffled permutation (Fisher-Yates
 * on counter-based draws), optionally repeated as RepeatAugSampler does on one replica:
 * `repeat_interleave(perm, r)[:floor(n // round * round)]`.
 */
export function epochOrder(n: number, epoch: number, o: SamplerOptions): Int32Array {
  if (!Number.isInteger(n) || n < 1) throw new DataError(`cannot sample an empty dataset (${n} images)`);
  const perm = new Int32Array(n);
  for (let i = 0; i < n; i++) perm[i] = i;
  if (o.shuffle) {
    const d = new CounterDraws(o.seed, epoch, 0x7fffffff, 3);
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(d.random() * (i + 1));
      const t = perm[i]!;
      perm[i] = perm[j]!;
      perm[j] = t;
    }
  }
  const r = o.repeats ?? 0;
  if (r <= 1) return perm;
  const round = o.selectedRound ?? 256;
  const keep = round > 0 ? Math.floor(n / round) * round : n;
  if (keep < 1) throw new DataError(`repeated augmentation keeps floor(${n} / ${round}) * ${round} = 0 samples: use at least ${round} images or selectedRound 0`);
  const out = new Int32Array(keep);
  for (let k = 0; k < keep; k++) out[k] = perm[Math.floor(k / r)]!;
  return out;
}
