// Gradient checkpointing (activation recomputation): a block's forward runs without keeping its
// intermediates for the backward pass; the backward pass runs the forward again from the saved input
// and differentiates that. Peak memory drops from every block's intermediates to one block's, for
// one more forward pass of compute. The recomputed ops are the same ops on the same values, so the
// gradients are the same bits (tests check it).
import * as tf from '@tensorflow/tfjs-core';
import type { Tensor } from '@tensorflow/tfjs-core';

type Saver = (tensors: Tensor[]) => void;
/** The one member of tfjs-core's engine state the nested backward pass must leave as it found it (tfjs 4.x). */
interface EngineTapeState {
  state: { activeTape: unknown[] | null };
}

/**
 * `tf.engine().gradients` run from inside a backward pass. At gradient depth 0 tfjs starts a fresh tape
 * and, when done, disposes that tape's saved tensors and sets the active tape to null — which would
 * drop the outer backward pass's own tape (its saved tensors would leak and its cleanup would fail).
 * The outer tape is put back afterwards.
 */
function nestedGradients(f: () => Tensor, wrt: Tensor[], dy: Tensor): { value: Tensor; grads: Array<Tensor | null> } {
  const engine = tf.engine() as unknown as EngineTapeState;
  const outer = engine.state.activeTape;
  try {
    return tf.engine().gradients(f, wrt, dy, true);
  } finally {
    engine.state.activeTape = outer;
  }
}
type CustomGradFn = (...args: Array<Tensor | Saver>) => { value: Tensor; gradFunc: (dy: Tensor, saved: Tensor[]) => Tensor[] };

/**
 * `f(x)` whose gradients to `x` and to `variables` (every trainable variable `f` reads: any other is
 * left without a gradient) are computed by recomputing `f` in the backward pass. `f` must be a pure
 * function of `x` and the variables: no random ops (stochastic depth, dropout), no state updated by the
 * forward (a lazy initialisation must have run before).
 */
export function checkpointed(f: (x: Tensor) => Tensor, x: Tensor, variables: readonly tf.Variable[]): Tensor {
  const run = ((...args: Array<Tensor | Saver>) => {
    const save = args[args.length - 1] as Saver;
    const input = args[0] as Tensor;
    save([input]);
    return {
      value: f(input),
      gradFunc: (dy: Tensor, [saved]: Tensor[]) =>
        tf.tidy(() => {
          const wrt = [saved, ...variables];
          const { value, grads } = nestedGradients(() => f(saved), wrt, dy);
          value.dispose();
          return grads.map((g, i) => g ?? tf.zerosLike(wrt[i]));
        }),
    };
  }) as CustomGradFn;
  return (tf.customGrad(run as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (...t: Tensor[]) => Tensor)(x, ...variables);
}
