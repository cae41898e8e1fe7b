/**
 * The random draws the transforms ask for, named as in Python so the golden draw traces of timm's code
 * can be replayed through the same arithmetic. `random()` is uniform in [0, 1).
 */
export interface Draws {
  random(): number;
  /** Python `random.uniform(a, b)` = `a + (b - a) * random()`. */
  uniform(a: number, b: number): number;
  /** Python `random.randint(a, b)`: both ends inclusive. */
  randint(a: number, b: number): number;
  /** Index into a choice of n items (`random.choice`, `np.random.choice`). */
  choice(n: number): number;
  gauss(mu: number, sigma: number): number;
  /** Beta(a, a) draw (`np.random.beta`, mixup's lambda). */
  beta(a: number, b: number): number;
}

/** Derives the shared arithmetic of `Draws` from a source of uniform [0, 1) numbers. */
export abstract class UniformDraws implements Draws {
  abstract random(): number;

  uniform(a: number, b: number): number {
    return a + (b - a) * this.random();
  }

  randint(a: number, b: number): number {
    return a + Math.floor(this.random() * (b - a + 1));
  }

  choice(n: number): number {
    return Math.floor(this.random() * n);
  }

  gauss(mu: number, sigma: number): number {
    // Box-Muller; 1 - u keeps the log finite.
    const u = 1 - this.random();
    const v = this.random();
    return mu + sigma * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  beta(a: number, b: number): number {
    const x = this.gamma(a);
    const y = this.gamma(b);
    return x + y === 0 ? 0.5 : x / (x + y);
  }

  /** Marsaglia-Tsang gamma(k, 1); k < 1 via the u^(1/k) boost. */
  private gamma(k: number): number {
    if (k < 1) return this.gamma(k + 1) * Math.pow(1 - this.random(), 1 / k);
    const d = k - 1 / 3;
    const c = 1 / Math.sqrt(9 * d);
    for (;;) {
      const x = this.gauss(0, 1);
      const v = (1 + c * x) ** 3;
      if (v <= 0) continue;
      const u = 1 - this.random();
      if (Math.log(u) < 0.5 * x * x + d - d * v + d * Math.log(v)) return d * v;
    }
  }
}

function fmix32(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** A keyed 32-bit hash of four words (murmur3-style rounds with a final avalanche). */
function hash4(a: number, b: number, c: number, d: number): number {
  let h = 0x9e3779b9;
  for (const w of [a, b, c, d]) {
    h = Math.imul(h ^ fmix32(Math.imul(w >>> 0, 0xcc9e2d51) >>> 0), 0x1b873593);
    h = ((h << 13) | (h >>> 19)) >>> 0;
    h = (Math.imul(h, 5) + 0xe6546b64) >>> 0;
  }
  return fmix32(h);
}

/**
 * Counter-based draws: draw k of stream (seed, epoch, slot) is a hash of (seed, epoch, slot, k), so
 * the augmentation of a sample depends on nothing but those numbers — no state to save, and a resumed
 * or re-sharded run sees the same pixels. `slot` is the sample's position in the epoch's order, so the
 * repeats of repeated augmentation get different draws.
 */
export class CounterDraws extends UniformDraws {
  private counter = 0;
  private readonly key: number;

  constructor(
    readonly seed: number,
    readonly epoch: number,
    readonly slot: number,
    /** Separates independent consumers of one sample (e.g. image transform vs erasing). */
    readonly stream = 0,
  ) {
    super();
    this.key = hash4(seed, epoch, slot, stream);
  }

  random(): number {
    const k = this.counter;
    this.counter += 2;
    const hi = hash4(this.key, k, 0x68e31da4, this.slot) >>> 5; // 27 bits
    const lo = hash4(this.key, k + 1, 0xb5297a4d, this.epoch) >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }
}

/** Replays a list of uniform numbers (tests, and golden draw traces). Throws when it runs out. */
export class ScriptedDraws extends UniformDraws {
  private i = 0;

  constructor(private readonly values: number[]) {
    super();
  }

  random(): number {
    if (this.i >= this.values.length) throw new Error(`ScriptedDraws: only ${this.values.length} draws were scripted`);
    return this.values[this.i++]!;
  }

  get used(): number {
    return this.i;
  }
}
