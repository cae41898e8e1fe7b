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
    // No colour management: PIL ignores embedded ICC profiles, so must we.
    const { data, info } = await sharp(bytes, { failOn: 'warning', pages: 1 })
      .toColourspace('srgb')
      .removeAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`decoded to ${info.channels} channels`);
    return createImage(info.width, info.height, new Uint8Array(data.buffer, data.byteOffset, data.length));
  } catch (e) {
    throw new DataError(`cannot decode image ${name}: ${(e as Error).message}`, { cause: e });
  }
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
