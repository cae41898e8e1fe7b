// The strip of MNIST test digits shipped with the page (public/strip.bin: count, labels, 28×28 pixels)
// and the preprocessing the packed file records, shared by the page and its Node test.

export interface Strip {
  labels: number[];
  /** One 784-byte image per label, white digit on black (MNIST). */
  images: Uint8Array[];
}

export const SIDE = 28;

export function parseStrip(bytes: Uint8Array): Strip {
  const n = bytes[0];
  if (bytes.length !== 1 + n + n * SIDE * SIDE) throw new Error(`strip.bin: ${bytes.length} bytes do not hold ${n} images`);
  const labels = Array.from(bytes.subarray(1, 1 + n));
  const images = labels.map((_, i) => bytes.subarray(1 + n + i * SIDE * SIDE, 1 + n + (i + 1) * SIDE * SIDE));
  return { labels, images };
}

export function encodeStrip(labels: number[], images: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(1 + labels.length + labels.length * SIDE * SIDE);
  out[0] = labels.length;
  out.set(labels, 1);
  images.forEach((im, i) => out.set(im, 1 + labels.length + i * SIDE * SIDE));
  return out;
}

/** `(v/255 − mean)/std`, as the training batches compute it. */
export function normalise(pixels: Uint8Array | Uint8ClampedArray, mean: number, std: number): Float32Array {
  const out = new Float32Array(pixels.length);
  for (let i = 0; i < pixels.length; i++) out[i] = (pixels[i] / 255 - mean) / std;
  return out;
}
