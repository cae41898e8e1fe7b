/**
 * timm's CosineLRScheduler as the reference uses it (docs/algorithm.md §7.2), with e the 0-based epoch:
 *  - e < W:            lr = warmupLr + e·(lr0 − warmupLr)/W
 *  - W ≤ e < epochs:   lr = minLr + ½(lr0 − minLr)(1 + cos(π·e/epochs))   (cosine not restarted after warmup)
 *  - e ≥ epochs:       lr = minLr                                         (cooldown epochs)
 * Per epoch (`t_in_epochs`) e is an integer; the per-step option passes a fractional epoch.
 */
export interface LrSchedule {
  lr: number;
  warmupLr: number;
  warmupEpochs: number;
  minLr: number;
  /** Length of the cosine (t_initial); training runs `epochs + cooldownEpochs`. */
  epochs: number;
}

export function lrAt(s: LrSchedule, epoch: number): number {
  if (epoch < s.warmupEpochs) return s.warmupLr + (epoch * (s.lr - s.warmupLr)) / s.warmupEpochs;
  if (epoch < s.epochs) return s.minLr + 0.5 * (s.lr - s.minLr) * (1 + Math.cos((Math.PI * epoch) / s.epochs));
  return s.minLr;
}

/** LR for a step: per epoch (constant within the epoch, like the reference) or per step (fractional epoch). */
export function lrForStep(s: LrSchedule, epoch: number, stepInEpoch: number, stepsPerEpoch: number, perStep: boolean): number {
  return lrAt(s, perStep ? epoch + stepInEpoch / stepsPerEpoch : epoch);
}
