import path from 'node:path';
import sharp, { type Metadata, type OutputInfo, type Sharp } from 'sharp';
import { rgbaToThumbHash } from 'thumbhash';
import { invalidMedia } from './errors.js';

/** Resolved image settings. */
export interface ImageSettings {
  maxSide: number;
  quality: number;
  thumbnailSizes: number[];
  maxInputPixels: number;
}

/** The outputs of {@link processImage}, all in the upload's work directory. */
export interface ProcessedImage {
  /** The re-encoded image: oriented, metadata stripped, at most `maxSide` on its longest side. */
  file: string;
  width: number;
  height: number;
  /** WebP thumbnails, smallest first. */
  thumbnails: Array<{ size: number; width: number; height: number; data: Buffer }>;
  /** ThumbHash, base64. */
  placeholder: string;
}

/** Output format per input format: the stored image keeps its format (lossless stays lossless). */
function encode(image: Sharp, mime: string, quality: number): Sharp {
  switch (mime) {
    case 'image/jpeg':
      return image.jpeg({ quality, mozjpeg: true });
    case 'image/png':
      return image.png({ compressionLevel: 9 });
    case 'image/webp':
      return image.webp({ quality });
    case 'image/gif':
      return image.gif();
    default:
      return image.avif({ quality });
  }
}

/**
 * Validates and re-encodes the image in `input` (sniffed as `mime`):
 * 1. reads only its header and refuses more than `maxInputPixels` pixels (a decompression bomb) before
 *    decoding anything;
 * 2. decodes it fully, failing on truncated or corrupt data (`failOn: 'truncated'`);
 * 3. applies the EXIF orientation, then writes it without any metadata (EXIF, GPS, XMP, ICC comments:
 *    sharp keeps none unless asked), scaled down to `maxSide`;
 * 4. makes the WebP thumbnails and the ThumbHash from that output (small and already upright).
 * Every decoder failure becomes `NATTER_MEDIA_INVALID`.
 */
export async function processImage(
  input: string,
  mime: string,
  settings: ImageSettings,
  dir: string,
): Promise<ProcessedImage> {
  const animated = mime === 'image/gif' || mime === 'image/webp';
  const open = (file: string, pages?: number) =>
    sharp(file, {
      limitInputPixels: settings.maxInputPixels,
      failOn: 'truncated',
      sequentialRead: true,
      ...(animated && pages === undefined ? { animated: true } : {}),
      ...(pages === undefined ? {} : { pages }),
    });

  let header: Metadata;
  try {
    header = await sharp(input, { limitInputPixels: false }).metadata();
  } catch (error) {
    throw invalidMedia(`not a decodable ${mime} image (${messageOf(error)})`);
  }
  const pixels = (header.width ?? 0) * (header.pageHeight ?? header.height ?? 0);
  if (!header.width || !header.height) throw invalidMedia('image without dimensions');
  if (pixels > settings.maxInputPixels) {
    throw invalidMedia(`image of ${header.width}x${header.height} pixels exceeds ${settings.maxInputPixels}`);
  }

  const file = path.join(dir, `stored.${mime.split('/')[1]}`);
  let output: OutputInfo;
  try {
    const oriented = open(input).rotate();
    const resized = oriented.resize({
      width: settings.maxSide,
      height: settings.maxSide,
      fit: 'inside',
      withoutEnlargement: true,
    });
    output = await encode(resized, mime, settings.quality).toFile(file);
  } catch (error) {
    throw invalidMedia(`image could not be decoded (${messageOf(error)})`);
  }

  const thumbnails: ProcessedImage['thumbnails'] = [];
  for (const size of [...settings.thumbnailSizes].sort((a, b) => a - b)) {
    const { data, info } = await open(file, 1)
      .resize({ width: size, height: size, fit: 'inside', withoutEnlargement: true })
      .webp({ quality: settings.quality })
      .toBuffer({ resolveWithObject: true });
    thumbnails.push({ size, width: info.width, height: info.height, data });
  }

  // ThumbHash wants at most 100x100 RGBA.
  const { data: rgba, info: small } = await open(file, 1)
    .resize({ width: 100, height: 100, fit: 'inside' })
    .ensureAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  const placeholder = Buffer.from(rgbaToThumbHash(small.width, small.height, rgba)).toString('base64');

  // An animated image's output stacks its frames; one frame's height is the image's height.
  const stored = await sharp(file).metadata();
  return {
    file,
    width: output.width,
    height: stored.pageHeight ?? output.height,
    thumbnails,
    placeholder,
  };
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message.split('\n')[0]! : String(error);
}
