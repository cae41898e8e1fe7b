// TEMPORARY until @ofq/core's nameMatcher lands on main: the @ofq glob meaning.
export function nameMatcher(glob: string): (name: string) => boolean {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '*' && glob[i + 1] === '*') {
      re += '.*';
      i++;
    } else if (c === '*') re += '[^./]*';
    else if (c === '?') re += '[^./]';
    else re += c.replace(/[\\^$+.()|{}[\]]/g, '\\$&');
  }
  const r = new RegExp(`^${re}$`);
  return (name) => r.test(name);
}

import type { Tensor, Variable } from '@tensorflow/tfjs-core';
import type { WeightQuantizer } from '@ofq/core';
// TEMPORARY: @ofq/core's QuantizedWeightRef (landing on main).
export interface QuantizedWeightRef {
  readonly name: string;
  readonly quantizer: WeightQuantizer;
  read(): Tensor;
  readonly variable: Variable | null;
}
