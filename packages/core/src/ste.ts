import * as tf from '@tensorflow/tfjs-core';
import type { Scalar, Tensor } from '@tensorflow/tfjs-core';

// Straight-through primitives. tfjs has no stop-gradient op, so each is a `tf.customGrad`.

type GradFunc = (dy: Tensor, saved: Tensor[]) => Tensor | Tensor[];
type OneInputGrad = (a: Tensor, save: (t: Tensor[]) => void) => { value: Tensor; gradFunc: GradFunc };

/** `tf.customGrad` for a function of one tensor (tfjs' typing wants a variadic signature). */
export function customGrad1(f: OneInputGrad): (a: Tensor) => Tensor {
  return tf.customGrad(f as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (a: Tensor) => Tensor;
}

/** `round(x)` (half to even) in the forward pass, identity gradient in the backward pass. */
export function roundSTE<T extends Tensor>(x: T): T {
  const f = customGrad1((a: Tensor) => ({ value: tf.round(a), gradFunc: (dy: Tensor) => dy }));
  return f(x) as T;
}

/** Identity in the forward pass; the gradient is multiplied by `scale` (LSQ's gradient scale `g`). */
export function gradScale<T extends Tensor>(x: T, scale: number): T {
  const f = customGrad1((a: Tensor) => ({
    value: tf.clone(a),
    gradFunc: (dy: Tensor) => tf.mul(dy, scale),
  }));
  return f(x) as T;
}

/** `clip(x, lo, hi)` in the forward pass, identity gradient everywhere (no clip mask). */
export function clipIdentityGrad<T extends Tensor>(x: T, lo: number, hi: number): T {
  const f = customGrad1((a: Tensor) => ({
    value: tf.clipByValue(a, lo, hi),
    gradFunc: (dy: Tensor) => dy,
  }));
  return f(x) as T;
}

/**
 * `clip(x, lo, hi)` whose gradient passes where `lo <= x <= hi` (inclusive at both ends, like
 * torch.clamp) and is zero outside.
 */
export function clipInclusive<T extends Tensor>(x: T, lo: number, hi: number): T {
  const f = customGrad1((a: Tensor, save: (t: Tensor[]) => void) => {
    save([a]);
    return {
      value: tf.clipByValue(a, lo, hi),
      gradFunc: (dy: Tensor, saved: Tensor[]) => {
        const inside = tf.logicalAnd(tf.greaterEqual(saved[0], lo), tf.lessEqual(saved[0], hi));
        return tf.mul(dy, tf.cast(inside, dy.dtype));
      },
    };
  });
  return f(x) as T;
}

/** Forward value of `x`, zero gradient (PyTorch's `.detach()`). */
export function stopGradient<T extends Tensor>(x: T): T {
  const f = customGrad1((a: Tensor) => ({ value: tf.clone(a), gradFunc: (dy: Tensor) => tf.zerosLike(dy) }));
  return f(x) as T;
}

/**
 * Forward value `value`, gradient of `through` (PyTorch's `value.detach() - x.detach() + x`):
 * the result carries `value`'s numbers and passes the upstream gradient to `through` unchanged.
 */
export function straightThrough<T extends Tensor>(through: T, value: Tensor): T {
  const f = customGrad1((_through: Tensor) => ({ value: tf.clone(value), gradFunc: (dy: Tensor) => dy }));
  return f(through) as T;
}

/** Sum of all elements as a JS number (disposes the intermediate). */
export function sumToNumber(x: Tensor): number {
  const s = tf.sum(x) as Scalar;
  const v = s.dataSync()[0];
  s.dispose();
  return v;
}
