// @ofq/lsq's shifted activation quantizer with the reference's state-dict names and step shape.
import { ShiftedLSQ, type LSQConfig } from '@ofq/lsq';
import { lsqStepSpec, shiftSpec } from './specs.js';
import type { ParamSpec } from '../params.js';

export class ShiftedAct extends ShiftedLSQ {
  constructor(
    size: number,
    cfg: LSQConfig,
    /** Shape of the step once created (e.g. [N] per token, [1] per tensor). */
    readonly stepShape: number[],
  ) {
    super(size, cfg);
  }

  stepSpec(name = 'input_quant_fn.s'): ParamSpec {
    return lsqStepSpec(name, this.quantizer, this.stepShape);
  }

  shiftSpecs(before = 'move_b4.bias', after = 'move_aft.bias'): ParamSpec[] {
    return [shiftSpec(before, this.before), shiftSpec(after, this.after)];
  }
}
