import { DataError } from './errors.js';

/** An 8-bit RGB image, row-major HWC with channels interleaved (PIL's `convert('RGB')` layout). */
export interface RGBImage {
  width: number;
  height: number;
  data: Uint8Array;
}

export function createImage(width: number, height: number, data?: Uint8Array): RGBImage {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new DataError(`image size must be positive integers, got ${width}x${height}`);
  }
  const size = width * height * 3;
  if (data !== undefined && data.length !== size) {
    throw new DataError(`a ${width}x${height} RGB image needs ${size} bytes, got ${data.length}`);
  }
  return { width, height, data: data ?? new Uint8Array(size) };
}

/** The box `left, top, width, height` of an image, copied (PIL `crop`; the box must lie inside). */
export function cropImage(img: RGBImage, left: number, top: number, width: number, height: number): RGBImage {
  if (left < 0 || top < 0 || left + width > img.width || top + height > img.height) {
    throw new DataError(`crop box (${left}, ${top}, ${width}x${height}) leaves the ${img.width}x${img.height} image`);
  }
  if (left === 0 && top === 0 && width === img.width && height === img.height) return img;
  const out = createImage(width, height);
  const row = width * 3;
  for (let y = 0; y < height; y++) {
    const src = ((top + y) * img.width + left) * 3;
    out.data.set(img.data.subarray(src, src + row), y * row);
  }
  return out;
}

/** Mirror left-right: out[y][x] = in[y][W-1-x]. */
export function flipHorizontal(img: RGBImage): RGBImage {
  const { width: w, height: h, data } = img;
  const out = createImage(w, h);
  for (let y = 0; y < h; y++) {
    const r = y * w * 3;
    for (let x = 0; x < w; x++) {
      const s = r + (w - 1 - x) * 3;
      const d = r + x * 3;
      out.data[d] = data[s]!;
      out.data[d + 1] = data[s + 1]!;
      out.data[d + 2] = data[s + 2]!;
    }
  }
  return out;
}
