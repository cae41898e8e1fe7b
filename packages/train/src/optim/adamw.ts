import * as tf from '@tensorflow/tfjs-core';

type NamedTensor = { name: string; tensor: tf.Tensor };

export interface AdamWOptions {
  learningRate: number;
  weightDecay: number;
  beta1?: number; // 0.9
  beta2?: number; // 0.999
  epsilon?: number; // 1e-8
}

export interface NamedParam {
  name: string;
  variable: tf.Variable;
  /** In the decay group (docs/algorithm.md §7.2): latent weights, not biases/norms/steps/tokens. */
  decay: boolean;
}

/** Saved optimizer state keyed by parameter display names (variable ids differ between processes). */
export interface AdamWState {
  step: number;
  moments: Map<string, { m: tf.Tensor; v: tf.Tensor }>;
}

/**
 * AdamW exactly like torch.optim.AdamW (defaults betas (0.9, 0.999), eps 1e-8), per parameter:
 *   p ← p·(1 − lr·wd)            (decoupled decay, decay group only)
 *   m ← β1·m + (1−β1)·g ;  v ← β2·v + (1−β2)·g²
 *   p ← p − (lr/(1−β1^t)) · m / (√v/√(1−β2^t) + ε)
 * A tf.Optimizer, so wrappers such as @ofq/cga's createCGA can drive it through applyGradients.
 * The step counter t is global (every parameter is stepped every iteration, as in the reference).
 */
export class AdamW extends tf.Optimizer {
  learningRate: number;
  weightDecay: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  private t = 0;
  private readonly byVarName = new Map<string, NamedParam>();
  private readonly m = new Map<string, tf.Variable>();
  private readonly v = new Map<string, tf.Variable>();

  static get className(): string {
    return 'AdamW';
  }

  constructor(params: NamedParam[], o: AdamWOptions) {
    super();
    this.learningRate = o.learningRate;
    this.weightDecay = o.weightDecay;
    this.beta1 = o.beta1 ?? 0.9;
    this.beta2 = o.beta2 ?? 0.999;
    this.epsilon = o.epsilon ?? 1e-8;
    const seen = new Set<string>();
    for (const p of params) {
      if (seen.has(p.name)) throw new Error(`AdamW: duplicate parameter name '${p.name}'`);
      seen.add(p.name);
      this.byVarName.set(p.variable.name, p);
    }
  }

  get stepCount(): number {
    return this.t;
  }

  override applyGradients(variableGradients: tf.NamedTensorMap | NamedTensor[]): void {
    const list = Array.isArray(variableGradients)
      ? variableGradients
      : Object.keys(variableGradients).map((name) => ({ name, tensor: variableGradients[name]! }));
    this.t += 1;
    const lr = this.learningRate;
    const b1 = this.beta1;
    const b2 = this.beta2;
    const bc1 = 1 - b1 ** this.t;
    const bc2Sqrt = Math.sqrt(1 - b2 ** this.t);
    const stepSize = lr / bc1;
    for (const { name, tensor: g } of list) {
      if (g == null) continue;
      const p = this.byVarName.get(name);
      if (!p) throw new Error(`AdamW: gradient for unknown variable '${name}' (not in the parameter list)`);
      const variable = p.variable;
      if (!this.m.has(p.name)) {
        // tidy: the zeros tensor the variable is built from would otherwise stay allocated.
        this.m.set(p.name, tf.tidy(() => tf.variable(tf.zerosLike(variable), false)));
        this.v.set(p.name, tf.tidy(() => tf.variable(tf.zerosLike(variable), false)));
      }
      const m = this.m.get(p.name)!;
      const v = this.v.get(p.name)!;
      tf.tidy(() => {
        const decayed = p.decay && this.weightDecay !== 0 ? tf.mul(variable, 1 - lr * this.weightDecay) : variable;
        const mNew = tf.add(tf.mul(m, b1), tf.mul(g, 1 - b1));
        const vNew = tf.add(tf.mul(v, b2), tf.mul(tf.square(g), 1 - b2));
        const denom = tf.add(tf.div(tf.sqrt(vNew), bc2Sqrt), this.epsilon);
        m.assign(mNew);
        v.assign(vNew);
        variable.assign(tf.sub(decayed, tf.mul(tf.div(mNew, denom), stepSize)));
      });
    }
    this.incrementIterations();
  }

  /** Copies of the moments (caller disposes) and the step counter, for a checkpoint. */
  exportState(): AdamWState {
    const moments = new Map<string, { m: tf.Tensor; v: tf.Tensor }>();
    for (const [name, m] of this.m) moments.set(name, { m: m.clone(), v: this.v.get(name)!.clone() });
    return { step: this.t, moments };
  }

  /** Restores moments saved by exportState (tensors are copied; the caller keeps ownership). */
  importState(state: AdamWState): void {
    const byName = new Map([...this.byVarName.values()].map((p) => [p.name, p]));
    for (const [name, { m, v }] of state.moments) {
      const p = byName.get(name);
      if (!p) throw new Error(`AdamW state: moment for unknown parameter '${name}'`);
      if (!tf.util.arraysEqual(m.shape, p.variable.shape) || !tf.util.arraysEqual(v.shape, p.variable.shape)) {
        throw new Error(`AdamW state: moment shape [${m.shape}] does not match parameter '${name}' [${p.variable.shape}]`);
      }
      this.m.get(name)?.dispose();
      this.v.get(name)?.dispose();
      this.m.set(name, tf.tidy(() => tf.variable(m.clone(), false)));
      this.v.set(name, tf.tidy(() => tf.variable(v.clone(), false)));
    }
    this.t = state.step;
  }

  override async getWeights(): Promise<NamedTensor[]> {
    const out: NamedTensor[] = [];
    for (const [name, m] of this.m) out.push({ name: `${name}/m`, tensor: m }, { name: `${name}/v`, tensor: this.v.get(name)! });
    return out;
  }

  override async setWeights(): Promise<void> {
    throw new Error('AdamW.setWeights: use importState (moments are keyed by parameter names)');
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { learningRate: this.learningRate, weightDecay: this.weightDecay, beta1: this.beta1, beta2: this.beta2, epsilon: this.epsilon };
  }

  override dispose(): void {
    for (const t of this.m.values()) t.dispose();
    for (const t of this.v.values()) t.dispose();
    this.m.clear();
    this.v.clear();
    super.dispose();
  }
}
