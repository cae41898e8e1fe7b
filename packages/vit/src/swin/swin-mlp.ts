// torchvision's MLP block of Swin (Linear, GELU, Dropout, Linear, Dropout): the FP Mlp, named `0` / `3`.
import type { ParamSpec } from '../params.js';
import { prefixed } from '../params.js';
import { Mlp } from '../fp/mlp.js';

export class SwinMlp extends Mlp {
  override params(): ParamSpec[] {
    return [...prefixed('0', this.fc1.params()), ...prefixed('3', this.fc2.params())];
  }
}
