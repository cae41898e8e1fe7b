import type { Variable } from '@tensorflow/tfjs-core';

/** The tfjs-layers training internals this hook touches (tfjs-layers 4.x `LayersModel`). */
interface TrainableModel {
  collectedTrainableWeights?: Array<{ read(): unknown }> | null;
  trainableWeights: unknown[];
  checkTrainableWeightsConsistency?: () => void;
}

/**
 * Makes `model.fit` train extra variables (the quantizers' learnable steps) without adding them to the
 * model's weights, so `model.save` writes exactly the float model a plain `tf.loadLayersModel` accepts.
 *
 * `fit` differentiates the list `compile` stores in `collectedTrainableWeights`; this turns that field
 * into an accessor that appends `extra()` (read at every `fit`), whether `compile` ran before or after.
 * Returns the undo function.
 */
export function hookTrainableSteps(model: object, extra: () => Variable[]): () => void {
  // A tf.Sequential compiles and fits through an inner LayersModel (`.model`) that every `compile`
  // rebuilds: hook the model, its current inner model, and the inner model of every later compile.
  const m = model as { model?: object; compile: (...a: unknown[]) => unknown };
  const undo: Array<() => void> = [hookFields(model, extra)];
  const hooked = new WeakSet<object>([model]);
  const hookInner = () => {
    if (m.model && !hooked.has(m.model)) {
      hooked.add(m.model);
      undo.push(hookFields(m.model, extra));
    }
  };
  hookInner();
  const hadOwnCompile = Object.prototype.hasOwnProperty.call(m, 'compile');
  const originalCompile = m.compile;
  m.compile = function (this: unknown, ...args: unknown[]) {
    const r = originalCompile.apply(this, args);
    hookInner();
    return r;
  };
  return () => {
    for (const u of undo.reverse()) u();
    if (hadOwnCompile) m.compile = originalCompile;
    else delete (m as { compile?: unknown }).compile;
  };
}

function hookFields(model: object, extra: () => Variable[]): () => void {
  const m = model as TrainableModel;
  const hadField = Object.prototype.hasOwnProperty.call(m, 'collectedTrainableWeights');
  let stored = m.collectedTrainableWeights;
  Object.defineProperty(m, 'collectedTrainableWeights', {
    configurable: true,
    enumerable: true,
    get: () => (stored == null ? stored : [...stored, ...extra().map((v) => ({ name: v.name, originalName: v.name, trainable: true, shape: v.shape, read: () => v }))]),
    set: (v: TrainableModel['collectedTrainableWeights']) => {
      stored = v;
    },
  });
  // fit warns when trainableWeights and the collected list differ in length; compare without the steps.
  m.checkTrainableWeightsConsistency = function (this: TrainableModel) {
    if (stored != null && this.trainableWeights.length !== stored.length) {
      console.warn('Discrepancy between trainableweights and collected trainable weights. Did you set `model.trainable` without calling `model.compile()` afterwards?');
    }
  };
  return () => {
    delete m.collectedTrainableWeights;
    delete m.checkTrainableWeightsConsistency;
    if (hadField) m.collectedTrainableWeights = stored;
  };
}
