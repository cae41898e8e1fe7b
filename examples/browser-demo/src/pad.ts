// What the canvas holds → an MNIST-like 28×28 digit: the ink's bounding box scaled into 20×20 and
// centred on its centre of mass, as the MNIST images were made.
import { SIDE } from './strip.js';

export function centreDigit(pad: HTMLCanvasElement): Uint8ClampedArray | null {
  const { width: w, height: h } = pad;
  const src = pad.getContext('2d')!.getImageData(0, 0, w, h).data;
  let x0 = w, y0 = h, x1 = -1, y1 = -1;
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    if (src[4 * (y * w + x)] > 20) { x0 = Math.min(x0, x); x1 = Math.max(x1, x); y0 = Math.min(y0, y); y1 = Math.max(y1, y); }
  }
  if (x1 < 0) return null;
  const box = Math.max(x1 - x0 + 1, y1 - y0 + 1);
  const small = document.createElement('canvas');
  small.width = small.height = SIDE;
  const ctx = small.getContext('2d')!;
  ctx.fillStyle = '#000';
  ctx.fillRect(0, 0, SIDE, SIDE);
  ctx.imageSmoothingQuality = 'high';
  const s = 20 / box;
  const dw = (x1 - x0 + 1) * s, dh = (y1 - y0 + 1) * s;
  ctx.drawImage(pad, x0, y0, x1 - x0 + 1, y1 - y0 + 1, (SIDE - dw) / 2, (SIDE - dh) / 2, dw, dh);
  // Shift so the centre of mass sits at the centre.
  const px = ctx.getImageData(0, 0, SIDE, SIDE).data;
  let m = 0, cx = 0, cy = 0;
  for (let i = 0; i < SIDE * SIDE; i++) { const v = px[4 * i]; m += v; cx += v * (i % SIDE); cy += v * Math.floor(i / SIDE); }
  const dx = Math.round(SIDE / 2 - 0.5 - cx / m), dy = Math.round(SIDE / 2 - 0.5 - cy / m);
  const out = new Uint8ClampedArray(SIDE * SIDE);
  for (let y = 0; y < SIDE; y++) for (let x = 0; x < SIDE; x++) {
    const sx = x - dx, sy = y - dy;
    if (sx >= 0 && sx < SIDE && sy >= 0 && sy < SIDE) out[y * SIDE + x] = px[4 * (sy * SIDE + sx)];
  }
  return out;
}
