import { OfqError } from '@ofq/core';

/** A problem with image data the user can fix: a missing folder, an unreadable image, a bad option. */
export class DataError extends OfqError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, { code: 'E_DATA', ...options });
  }
}
