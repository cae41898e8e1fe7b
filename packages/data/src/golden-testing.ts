// Test helpers shared by this package's golden tests (not exported from the package).
import { createHash } from 'node:crypto';
import { loadGolden, loadGoldenBytes } from '@ofq/core/testing';
import { decodeImage } from './decode.js';
import { evalTransform } from './eval-transform.js';
import { UniformDraws } from './draws.js';
import type { RGBImage } from './image.js';

/** `golden/transforms/index.json`: records of timm 0.5.4 + Pillow 9.4 run on the four source photos. */
export const goldenIndex = (): any => loadGolden('transforms/index.json');

export const GOLDEN_IMAGES = ['astronaut', 'coffee', 'rocket_portrait', 'chelsea_small'] as const;

/** sha256 of raw HWC bytes (the index's `sha256_rgb`). */
export const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

/** Pillow's decode of `src/<name>.jpg` (decodeImage matches it bit for bit, asserted in decode.test.ts). */
export async function goldenSource(name: string): Promise<RGBImage> {
  return decodeImage(loadGoldenBytes(`transforms/src/${name}.jpg`), name);
}

/** The eval crop at crop_pct 0.9: the input of the RandAugment, flip and mixup records. */
export async function goldenEvalCrop(name: string): Promise<RGBImage> {
  return evalTransform(await goldenSource(name), { cropPct: 0.9 });
}

/**
 * Replays a recorded draw trace through the `Draws` interface, checking the kind and arguments of every
 * draw (so a port's draw order is tested as well as its pixels).
 */
export class TraceDraws extends UniformDraws {
  private i = 0;

  constructor(private readonly trace: any[]) {
    super();
  }

  get remaining(): number {
    return this.trace.length - this.i;
  }

  private take(kinds: string[]): any {
    const d = this.trace[this.i++];
    if (d === undefined || !kinds.includes(d.draw)) throw new Error(`draw ${this.i}: asked for ${kinds[0]}, trace has ${d?.draw}`);
    return d;
  }

  random(): number {
    return this.take(['random', 'torch.rand(1)', 'np.random.rand']).returned;
  }

  override uniform(a: number, b: number): number {
    const d = this.take(['uniform']);
    if (Math.abs(d.a - a) > 1e-15 || Math.abs(d.b - b) > 1e-15) throw new Error(`uniform(${a}, ${b}) but the trace has (${d.a}, ${d.b})`);
    const v = a + (b - a) * d.u;
    if (v !== d.returned) throw new Error(`uniform arithmetic: ${v} vs ${d.returned}`);
    return v;
  }

  override randint(a: number, b: number): number {
    const d = this.take(['randint', 'np.random.randint']);
    const hi = d.draw === 'randint' ? d.b : d.high_exclusive - 1;
    const lo = d.draw === 'randint' ? d.a : d.low;
    if (lo !== a || hi !== b) throw new Error(`randint(${a}, ${b}) but the trace has [${lo}, ${hi}]`);
    return d.returned;
  }

  override choice(n: number): number {
    const d = this.take(['choice', 'np.random.choice']);
    if (d.n !== n) throw new Error(`choice of ${n} but the trace has ${d.n}`);
    return d.index;
  }

  override gauss(mu: number, sigma: number): number {
    const d = this.take(['gauss']);
    if (d.mu !== mu || d.sigma !== sigma) throw new Error(`gauss(${mu}, ${sigma}) but the trace has (${d.mu}, ${d.sigma})`);
    return d.returned;
  }

  override beta(a: number): number {
    const d = this.take(['np.random.beta']);
    if (d.alpha !== a) throw new Error(`beta(${a}) but the trace has ${d.alpha}`);
    return d.returned;
  }
}
