/** Checks a bit-width: an integer in [min, max]; throws a clear error otherwise. */
export function assertBits(bits: unknown, what = 'bits', min = 2, max = 8): number {
  if (typeof bits !== 'number' || !Number.isInteger(bits) || bits < min || bits > max) {
    throw new RangeError(
      `${what} must be an integer in [${min}, ${max}], got ${typeof bits === 'string' ? JSON.stringify(bits) : String(bits)}`,
    );
  }
  return bits;
}
