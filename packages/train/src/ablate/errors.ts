import { OfqError } from '@ofq/core';

/** A bad `ofq ablate` request, or an ablation directory made for a different one. */
export class AblationError extends OfqError {
  constructor(message: string) {
    super(message, { code: 'E_ABLATION' });
  }
}
