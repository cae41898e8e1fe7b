// Seed-paired statistics for the ablation tables: mean, sample spread and a Student-t interval.

/** Two-sided 95% Student-t quantiles t_{0.975, df} for df = 1..30. */
const T975 = [
  12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131, 2.12, 2.11, 2.101, 2.093,
  2.086, 2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042,
];

/** t_{0.975, df}; beyond df 30 the normal quantile plus the first-order correction (within 0.2%). */
export function tQuantile975(df: number): number {
  if (!Number.isInteger(df) || df < 1) throw new RangeError(`tQuantile975: degrees of freedom must be a positive integer, got ${df}`);
  return df <= 30 ? T975[df - 1]! : 1.96 + 2.4 / df;
}

export interface Spread {
  n: number;
  mean: number | null;
  /** Sample standard deviation (n − 1); null below two values. */
  sd: number | null;
  min: number | null;
  max: number | null;
}

export function spreadOf(xs: number[]): Spread {
  const n = xs.length;
  if (n === 0) return { n, mean: null, sd: null, min: null, max: null };
  const mean = xs.reduce((a, b) => a + b, 0) / n;
  const sd = n > 1 ? Math.sqrt(xs.reduce((a, x) => a + (x - mean) ** 2, 0) / (n - 1)) : null;
  return { n, mean, sd, min: Math.min(...xs), max: Math.max(...xs) };
}

export interface PairedDifference extends Spread {
  /** 95% t-interval of the mean difference over seeds; null below two pairs. */
  ci: [number, number] | null;
  /** Seeds where the second arm is ahead / behind. */
  wins: number;
  losses: number;
  /** The per-seed differences `b − a`, in seed order. */
  diffs: number[];
}

/** Differences `b[i] − a[i]` of paired values (pairs with a missing side are left out by the caller). */
export function pairedDifference(a: number[], b: number[]): PairedDifference {
  if (a.length !== b.length) throw new RangeError(`pairedDifference: ${a.length} values paired with ${b.length}`);
  const diffs = a.map((x, i) => b[i]! - x);
  const s = spreadOf(diffs);
  const ci = s.n > 1 && s.mean !== null && s.sd !== null ? halfWidth(s.mean, s.sd, s.n) : null;
  return { ...s, ci, wins: diffs.filter((d) => d > 0).length, losses: diffs.filter((d) => d < 0).length, diffs };
}

function halfWidth(mean: number, sd: number, n: number): [number, number] {
  const h = (tQuantile975(n - 1) * sd) / Math.sqrt(n);
  return [mean - h, mean + h];
}
