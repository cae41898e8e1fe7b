import { OfqError } from '@ofq/core';

/** A packed model file (`.ofq`) that cannot be read: damaged, tampered, or for another model. */
export class PackedModelError extends OfqError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, { code: 'E_PACKED_MODEL', cause: options.cause });
  }
}

export function packedFail(message: string): never {
  throw new PackedModelError(`packed model: ${message}`);
}
