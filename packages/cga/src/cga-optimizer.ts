import * as tf from '@tensorflow/tfjs-core';
import type { NamedTensorMap, Tensor } from '@tensorflow/tfjs-core';

type NamedTensor = { name: string; tensor: Tensor };
import type { WeightQuantizer } from '@ofq/core';
import { assertBoundaryRange, assertQuantizer, confidenceMask, type ThresholdRange } from './confidence-mask.js';
import { toPredicate, type ParamSelector } from './select.js';

/** A gradient mask for QKR's merged W_qk: gets W_qk and the quantizer applied to it, returns 0/1. */
export type QKGradientMask = (wqk: Tensor, quantizer: WeightQuantizer) => Tensor;

/** A model that can mask the gradient of its merged QKR matrix W_qk (e.g. @ofq/vit's DeiTModel). */
export interface QKGradientMaskTarget {
  setQKGradientMask(mask: QKGradientMask | null): void;
}

/** A parameter CGA may anneal: display name, variable, and the quantizer its forward pass applies. */
export interface CGAParam {
  name: string;
  variable: tf.Variable;
  /** Defaults to `CGAOptions.quantizer`. */
  quantizer?: WeightQuantizer;
}

export interface CGAOptions {
  /** Quantizer of every selected parameter that does not name its own (e.g. `new StatsQuantizer({ bits: 2 })`). */
  quantizer?: WeightQuantizer;
  /** Band half-width x in quantization steps (reference default 0.005). */
  boundaryRange?: number;
  /** Which of `params` to anneal: globs over their names or a predicate (default v/proj/fc1/fc2 of every block). */
  select?: ParamSelector;
  /** See `ThresholdRange` (default 'occupied', the reference training loop's). */
  thresholdRange?: ThresholdRange;
  /**
   * Decision #2 (default false = faithful): also mask the gradient of the merged QKR matrix W_qk with the
   * confidence mask of W_qk, through `qkTarget.setQKGradientMask`. W_q / W_k values are not restored.
   */
  includeQK?: boolean;
  qkTarget?: QKGradientMaskTarget;
  /** Called after every step with that step's statistics (reading them syncs with the device). */
  onStep?: (stats: CGAStepStats) => void;
}

export interface CGAStepStats {
  step: number;
  /** Frozen share of all selected weights (element-weighted). */
  frozenFraction: number;
  frozen: number;
  total: number;
  /** Frozen share per selected parameter name. */
  perParam: Record<string, number>;
}

interface Selected {
  name: string;
  variable: tf.Variable;
  quantizer: WeightQuantizer;
}

/**
 * Confidence-guided annealing (OFQ, spec §6.2) around any tf.Optimizer. For each selected weight, every
 * step: the mask is recomputed from the pre-step weights under their own quantizers (current scales); the gradients
 * of confident (frozen) entries are zeroed; the inner optimizer steps; the frozen entries are restored
 * exactly, which undoes weight decay and momentum carried over to them. Everything else (unselected
 * parameters, gradients for them) passes through unchanged.
 *
 * It is itself a tf.Optimizer, so it drops into `model.compile({ optimizer })`, `minimize` and
 * `applyGradients` (gradients keyed by `variable.name`, as tfjs does).
 */
export class CGAOptimizer extends tf.Optimizer {
  readonly inner: tf.Optimizer;
  readonly boundaryRange: number;
  readonly thresholdRange: ThresholdRange;
  readonly includeQK: boolean;
  /** The annealed parameters (display name and variable). */
  readonly selected: readonly Selected[];
  private readonly byVarName = new Map<string, Selected>();
  private readonly qkTarget: QKGradientMaskTarget | null;
  private readonly onStep?: (stats: CGAStepStats) => void;
  private counts: Tensor | null = null; // [selected]: frozen entries per param at the last step (int32)
  private countsFor: string[] = [];
  private steps = 0;
  private cachedStats: CGAStepStats | null = null;

  static get className(): string {
    return 'CGAOptimizer';
  }

  constructor(optimizer: tf.Optimizer, params: readonly CGAParam[], o: CGAOptions) {
    super();
    if (!(optimizer instanceof tf.Optimizer) && typeof (optimizer as tf.Optimizer)?.applyGradients !== 'function') {
      throw new TypeError('createCGA: the first argument must be a tf.Optimizer (anything with applyGradients)');
    }
    if (!Array.isArray(params)) throw new TypeError('createCGA: params must be an array of { name, variable }');
    if (o == null || typeof o !== 'object') throw new TypeError('createCGA: options { quantizer?, boundaryRange? } are required');
    if ('bits' in o) throw new TypeError('createCGA: `bits` was replaced by `quantizer` (e.g. new StatsQuantizer({ bits: 2 }) from @ofq/statsq), per parameter or as a default');
    if (o.quantizer !== undefined) assertQuantizer(o.quantizer, 'createCGA');
    this.inner = optimizer;
    this.boundaryRange = assertBoundaryRange(o.boundaryRange ?? 0.005);
    this.thresholdRange = o.thresholdRange ?? 'occupied';
    this.includeQK = o.includeQK ?? false;
    this.onStep = o.onStep;
    const pick = toPredicate(o.select);
    const selected: Selected[] = [];
    for (const p of params) {
      if (!p || typeof p.name !== 'string' || !(p.variable instanceof tf.Variable)) {
        throw new TypeError('createCGA: every param must be { name: string, variable: tf.Variable }');
      }
      if (!pick(p.name)) continue;
      if (p.variable.dtype !== 'float32' || p.variable.rank < 1) throw new TypeError(`createCGA: ${p.name} must be a float32 weight of rank >= 1`);
      if (this.byVarName.has(p.variable.name)) throw new Error(`createCGA: parameter ${p.name} is listed twice`);
      const quantizer = p.quantizer ?? o.quantizer;
      if (quantizer === undefined) throw new TypeError(`createCGA: ${p.name} has no quantizer; give each param one or pass a default \`quantizer\``);
      assertQuantizer(quantizer, `createCGA (${p.name})`);
      const s = { name: p.name, variable: p.variable, quantizer };
      selected.push(s);
      this.byVarName.set(p.variable.name, s);
    }
    if (selected.length === 0 && !this.includeQK) {
      throw new Error(
        `createCGA: no parameter matched the selection (${o.select === undefined ? 'default: blocks.*.attn.v/proj, blocks.*.mlp.fc1/fc2 weights' : 'custom'}); names seen: ${params
          .slice(0, 6)
          .map((p) => p.name)
          .join(', ')}${params.length > 6 ? ', …' : ''}`,
      );
    }
    this.selected = selected;
    this.qkTarget = null;
    if (this.includeQK) {
      if (!o.qkTarget || typeof o.qkTarget.setQKGradientMask !== 'function') {
        throw new TypeError('createCGA: includeQK needs qkTarget, a model with setQKGradientMask(fn) (e.g. @ofq/vit DeiTModel with qkr)');
      }
      this.qkTarget = o.qkTarget;
      const { boundaryRange, thresholdRange } = this;
      o.qkTarget.setQKGradientMask((wqk, quantizer) => tf.tidy(() => tf.cast(confidenceMask(wqk, { quantizer, boundaryRange, thresholdRange }), 'float32')));
    }
  }

  /** The mask CGA would use for a selected parameter now (true = trainable). */
  private maskOf(sel: Selected): Tensor {
    return confidenceMask(sel.variable, { quantizer: sel.quantizer, boundaryRange: this.boundaryRange, thresholdRange: this.thresholdRange });
  }

  override applyGradients(variableGradients: NamedTensorMap | NamedTensor[]): void {
    const list: NamedTensor[] = Array.isArray(variableGradients)
      ? variableGradients
      : Object.keys(variableGradients).map((name) => ({ name, tensor: variableGradients[name] }));
    const masks: Array<{ sel: Selected; trainable: Tensor; saved: Tensor }> = [];
    const forwarded: NamedTensor[] = [];
    const owned: Tensor[] = [];
    for (const { name, tensor } of list) {
      const sel = tensor == null ? undefined : this.byVarName.get(name);
      if (!sel) {
        forwarded.push({ name, tensor });
        continue;
      }
      // Mask from the pre-step weights and their current row scales (reference order).
      const trainable = this.maskOf(sel);
      const masked = tf.tidy(() => tf.where(trainable, tensor, tf.zerosLike(tensor)));
      masks.push({ sel, trainable, saved: sel.variable.clone() });
      forwarded.push({ name, tensor: masked });
      owned.push(masked);
    }
    try {
      this.inner.applyGradients(Array.isArray(variableGradients) ? forwarded : Object.fromEntries(forwarded.map((g) => [g.name, g.tensor])));
      for (const { sel, trainable, saved } of masks) {
        // Restore frozen entries bit for bit: undoes decoupled weight decay and momentum on them.
        tf.tidy(() => sel.variable.assign(tf.where(trainable, sel.variable, saved))); // assign inside tidy: the where result is released
      }
      // Kept: model.fit calls applyGradients inside its own tidy, and the stats are read later.
      const counts = masks.length
        ? tf.keep(tf.tidy(() => tf.stack(masks.map((m) => tf.sum(tf.cast(tf.logicalNot(m.trainable), 'int32'))))))
        : null;
      this.counts?.dispose();
      this.counts = counts;
      this.countsFor = masks.map((m) => m.sel.name);
      this.cachedStats = null;
      this.steps++;
    } finally {
      tf.dispose([...owned, ...masks.flatMap((m) => [m.trainable, m.saved])]);
    }
    if (this.onStep) this.onStep(this.lastStats!);
  }

  /** Statistics of the last step (null before the first). Reading them waits for the device. */
  get lastStats(): CGAStepStats | null {
    if (this.steps === 0) return null;
    if (!this.cachedStats) {
      const frozen = this.counts ? Array.from(this.counts.dataSync()) : [];
      const perParam: Record<string, number> = {};
      let f = 0;
      let total = 0;
      this.countsFor.forEach((name, i) => {
        const size = this.selected.find((s) => s.name === name)!.variable.size;
        perParam[name] = frozen[i] / size;
        f += frozen[i];
        total += size;
      });
      this.cachedStats = { step: this.steps, frozenFraction: total ? f / total : 0, frozen: f, total, perParam };
    }
    return this.cachedStats;
  }

  /** Frozen share of the selected weights at the last step (NaN before the first). */
  get frozenFraction(): number {
    return this.lastStats?.frozenFraction ?? NaN;
  }

  override getWeights(): Promise<NamedTensor[]> {
    return this.inner.getWeights();
  }

  override setWeights(weightValues: NamedTensor[]): Promise<void> {
    return this.inner.setWeights(weightValues);
  }

  override get iterations(): number {
    return this.inner.iterations;
  }

  getConfig(): tf.serialization.ConfigDict {
    return {
      inner: (this.inner.getClassName?.() ?? 'Optimizer') as string,
      boundaryRange: this.boundaryRange,
      thresholdRange: this.thresholdRange,
      includeQK: this.includeQK,
    };
  }

  /** Releases CGA's own tensors and removes the W_qk gradient hook. The inner optimizer is not disposed. */
  override dispose(): void {
    this.counts?.dispose();
    this.counts = null;
    this.qkTarget?.setQKGradientMask(null);
  }
}

/**
 * Wraps `optimizer` with confidence-guided annealing for the selected `params` (names are display names
 * such as `blocks.3.mlp.fc1.weight`; gradients are matched by `variable.name`).
 */
export function createCGA(optimizer: tf.Optimizer, params: readonly CGAParam[], o: CGAOptions): CGAOptimizer {
  return new CGAOptimizer(optimizer, params, o);
}
