import { readFile } from 'node:fs/promises';
import sharp from 'sharp';
import { DataError } from './errors.js';
import { createImage, type RGBImage } from './image.js';

/**
 * Decodes an image file to 8-bit RGB like PIL's `Image.open(path).convert('RGB')`: libjpeg-turbo with the
 * same IDCT and upsampling as Pillow (bit-identical on the golden JPEGs), alpha dropped, grey expanded.
 * Unreadable or corrupt data raises a `DataError` naming the file.
 */
export async function decodeImage(source: string | Uint8Array, name = typeof source === 'string' ? source : 'image data'): Promise<RGBImage> {
  let bytes: Uint8Array;
  try {
    bytes = typeof source === 'string' ? await readFile(source) : source;
  } catch (e) {
    throw new DataError(`cannot read image ${name}: ${(e as Error).message}`, { cause: e });
  }
  try {
    // failOn 'warning': a truncated JPEG is an error, as it is for PIL (LOAD_TRUNCATED_IMAGES off).
    // sharp's output is sRGB already; grey and alpha are handled below, as `convert('RGB')` does.
    const { data, info } = await sharp(bytes, { failOn: 'warning', pages: 1, sequentialRead: true }).raw().toBuffer({ resolveWithObject: true });
    return toRGB(new Uint8Array(data.buffer, data.byteOffset, data.length), info.width, info.height, info.channels);
  } catch (e) {
    throw new DataError(`cannot decode image ${name}: ${(e as Error).message}`, { cause: e });
  }
}

/** PIL `convert('RGB')` of L, LA, RGB and RGBA pixels: grey is replicated, alpha dropped (not composited). */
function toRGB(data: Uint8Array, width: number, height: number, channels: number): RGBImage {
  if (channels === 3) return createImage(width, height, data);
  if (channels < 1 || channels > 4) throw new Error(`decoded to ${channels} channels`);
  const out = createImage(width, height);
  const n = width * height;
  for (let i = 0; i < n; i++) {
    const s = i * channels;
    const d = i * 3;
    if (channels <= 2) {
      out.data[d] = out.data[d + 1] = out.data[d + 2] = data[s]!;
    } else {
      out.data[d] = data[s]!;
      out.data[d + 1] = data[s + 1]!;
      out.data[d + 2] = data[s + 2]!;
    }
  }
  return out;
}

/** Encodes RGB pixels as PNG (lossless), for `ofq augment` and contact sheets. */
export async function encodePNG(img: RGBImage): Promise<Buffer> {
  return sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } }).png().toBuffer();
}

/** Encodes RGB pixels as a baseline 4:2:0 JPEG (PIL's `save(quality=q)` defaults). */
export async function encodeJPEG(img: RGBImage, quality = 90): Promise<Buffer> {
  return sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } })
    .jpeg({ quality, chromaSubsampling: '4:2:0', mozjpeg: false })
    .toBuffer();
}
