/**
 * Base class of every error @ofq raises for a problem the user can fix (bad option, bad file, missing
 * data). Applications tell these from bugs by class: print `message` without a stack for an `OfqError`,
 * keep the stack for anything else. `code` is stable and machine-readable (e.g. `E_RECIPE`).
 */
export class OfqError extends Error {
  readonly code: string;

  constructor(message: string, options: { code?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = options.code ?? 'E_OFQ';
    this.name = new.target.name;
  }
}

/** True for an `OfqError` (also across duplicated module copies, where `instanceof` would fail). */
export function isOfqError(e: unknown): e is OfqError {
  return e instanceof OfqError || (typeof e === 'object' && e !== null && (e as { ofqError?: unknown }).ofqError === true);
}
Object.defineProperty(OfqError.prototype, 'ofqError', { value: true, enumerable: false });
