/** Python's `round(x)` for floats: to the nearest integer, ties to even (JS `Math.round` ties up). */
export function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/** Python's `int(x)` for floats: truncation toward zero. */
export function pyInt(x: number): number {
  return Math.trunc(x);
}

/** Python's `round(x, 15)`: Number#toFixed rounds the exact binary value to 15 decimals, as CPython does. */
export function round15(x: number): number {
  const r = Number(x.toFixed(15));
  return r === 0 ? 0 : r;
}
