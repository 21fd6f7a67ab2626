/**
 * CLIP's image preprocessing as transformers' CLIPImageProcessor runs it from a
 * `preprocessor_config.json`: the shortest edge resized (PIL's filter, on 8-bit pixels), a centre
 * crop, ×1/255, then each channel normalised with CLIP's mean and std. Reads both the current form
 * (`"size": {"shortest_edge": 224}`) and the older `CLIPFeatureExtractor` one SD 1.5's repo has
 * (`"size": 224`, `"crop_size": 224`).
 */
import { ModelError } from '../errors';
import type { ResampleFilter } from '../image/resample';
import { resizePil } from '../image/resample';
import type { RgbaImage } from '../image/rgba';
import { isRecord } from '../json';

export interface ClipImageConfig {
  /** The resize target: the shortest edge, or an exact size. */
  size: { shortestEdge: number } | { height: number; width: number } | null;
  crop: { height: number; width: number } | null;
  filter: ResampleFilter;
  /** null: not rescaled (already 0..1 would be wrong for 8-bit input, so configs keep it on). */
  rescale: number | null;
  mean: [number, number, number] | null;
  std: [number, number, number] | null;
}

/** PIL's resample codes (Image.Resampling) this app implements. */
const FILTER_CODES: Record<number, ResampleFilter> = { 1: 'lanczos', 3: 'bicubic' };

function triple(file: string, key: string, value: unknown): [number, number, number] {
  if (Array.isArray(value) && value.length === 3 && value.every((v) => typeof v === 'number')) {
    return [value[0] as number, value[1] as number, value[2] as number];
  }
  throw new ModelError(`${file}: ${key} must be three numbers (one per RGB channel).`);
}

function sizeOf(file: string, key: string, value: unknown, square: boolean): ClipImageConfig['size'] {
  if (typeof value === 'number' && Number.isInteger(value) && value > 0) {
    return square ? { height: value, width: value } : { shortestEdge: value };
  }
  if (isRecord(value)) {
    const edge = value['shortest_edge'];
    const { height, width } = value;
    if (typeof edge === 'number' && Number.isInteger(edge) && edge > 0) return { shortestEdge: edge };
    if (typeof height === 'number' && typeof width === 'number' && height > 0 && width > 0) return { height, width };
  }
  throw new ModelError(`${file}: ${key} = ${JSON.stringify(value)} is not a size this app reads.`);
}

export function readClipImageConfig(file: string, json: unknown): ClipImageConfig {
  if (!isRecord(json)) throw new ModelError(`${file} is not a JSON object.`);
  const flag = (key: string) => json[key] !== false; // CLIPImageProcessor's defaults are all on
  const resample = json['resample'] ?? 3;
  const filter = typeof resample === 'number' ? FILTER_CODES[resample] : undefined;
  if (!filter) {
    throw new ModelError(
      `${file}: resample = ${JSON.stringify(resample)} is not supported (this app has BICUBIC (3) and LANCZOS (1)).`,
    );
  }
  const crop = flag('do_center_crop') ? sizeOf(file, 'crop_size', json['crop_size'] ?? 224, true) : null;
  return {
    size: flag('do_resize') ? sizeOf(file, 'size', json['size'] ?? 224, false) : null,
    crop: crop && 'height' in crop ? crop : null,
    filter,
    rescale: flag('do_rescale') ? Number(json['rescale_factor'] ?? 1 / 255) : null,
    mean: flag('do_normalize')
      ? triple(file, 'image_mean', json['image_mean'] ?? [0.48145466, 0.4578275, 0.40821073])
      : null,
    std: flag('do_normalize')
      ? triple(file, 'image_std', json['image_std'] ?? [0.26862954, 0.26130258, 0.27577711])
      : null,
  };
}

/** transformers' shortest-edge rule: the short side becomes `edge`, the long one int(edge·long/short). */
function resizedSize(image: RgbaImage, size: NonNullable<ClipImageConfig['size']>): { width: number; height: number } {
  if (!('shortestEdge' in size)) return size;
  const { width: w, height: h } = image;
  const edge = size.shortestEdge;
  return w <= h
    ? { width: edge, height: Math.trunc((edge * h) / w) }
    : { width: Math.trunc((edge * w) / h), height: edge };
}

/** An RGBA picture → `pixel_values` [1, 3, H, W] as the processor makes them. */
export function clipPixelValues(
  image: RgbaImage,
  config: ClipImageConfig,
): { data: Float32Array; height: number; width: number } {
  let picture = image;
  if (config.size) {
    const { width, height } = resizedSize(image, config.size);
    if (width !== image.width || height !== image.height) picture = resizePil(image, width, height, config.filter);
  }
  let [top, left, height, width] = [0, 0, picture.height, picture.width];
  if (config.crop) {
    if (config.crop.height > picture.height || config.crop.width > picture.width) {
      throw new ModelError(
        `The safety checker's crop (${config.crop.width}×${config.crop.height}) is larger than the resized picture (${picture.width}×${picture.height}).`,
      );
    }
    top = Math.floor((picture.height - config.crop.height) / 2);
    left = Math.floor((picture.width - config.crop.width) / 2);
    ({ height, width } = config.crop);
  }
  const plane = height * width;
  const data = new Float32Array(3 * plane);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const at = ((top + y) * picture.width + left + x) * 4;
      for (let c = 0; c < 3; c++) {
        let v = picture.pixels[at + c]!;
        if (config.rescale !== null) v *= config.rescale;
        if (config.mean && config.std) v = (v - config.mean[c]!) / config.std[c]!;
        data[c * plane + y * width + x] = v;
      }
    }
  }
  return { data, height, width };
}
