/**
 * The largest tensors the app's graphs make at an image size, from the configs alone: what has to
 * fit one WebGPU buffer binding (the adapter's maxStorageBufferBindingSize: 128 MiB on lavapipe and
 * many phones, 2–4 GiB on desktop GPUs). Past that limit the result is wrong, not an error:
 * measured on lavapipe, the `sd1` VAE decoder's float32 graph equals onnxruntime-node's to 2.6e-6
 * at 256×256 and is 1.30 (max relative) off at 1024×1024, where its attention scores are 1 GiB.
 */
import { ValidationError } from '../errors';
import { formatBytes } from '../format-bytes';
import type { UnetConfig, VaeConfig } from './config';
import type { Precision } from './graph';

export interface SizedTensor {
  /** Where it is, in words. */
  what: string;
  bytes: number;
}

const ceilDiv = (a: number, b: number) => Math.ceil(a / b);

/**
 * The UNet's attention scores per cross-attention level ([batch·heads, N, N], N the level's pixels;
 * float32 with `upcast_attention`), the larger of self- and cross-attention.
 */
function unetTensors(c: UnetConfig, h: number, w: number, batch: number, precision: Precision): SizedTensor[] {
  const element = c.upcastAttention || precision === 'float32' ? 4 : 2;
  const out: SizedTensor[] = [];
  const levels = c.blockOut.length;
  for (let i = 0; i < levels; i++) {
    const attends = c.down[i] === 'CrossAttnDownBlock2D' || (i === levels - 1 && c.midBlock);
    if (!attends) continue;
    const tokens = ceilDiv(h, 2 ** i) * ceilDiv(w, 2 ** i);
    out.push({
      what: `the UNet's attention scores at ${ceilDiv(w, 2 ** i)}×${ceilDiv(h, 2 ** i)} latents`,
      bytes: batch * c.heads[i]! * tokens * Math.max(tokens, 77) * element,
    });
  }
  return out;
}

/**
 * The VAE's largest activation per resolution (float32: GroupNorm's statistics are float32 in every
 * graph) and its mid-block attention scores (one head, float32: diffusers upcasts its softmax).
 */
function vaeTensors(c: VaeConfig, height: number, width: number, part: 'decoder' | 'encoder'): SizedTensor[] {
  const n = c.blockOut.length;
  const channels = part === 'decoder' ? [...c.blockOut].reverse() : c.blockOut;
  const out: SizedTensor[] = [];
  for (let l = 0; l < n; l++) {
    // The decoder grows from the latent size to the image; the encoder shrinks from the image.
    const scale = part === 'decoder' ? 2 ** (n - 1 - l) : 2 ** l;
    const h = ceilDiv(height, scale);
    const w = ceilDiv(width, scale);
    // A level's first resnet takes the previous level's channels at this level's size.
    const most = Math.max(channels[l]!, l > 0 ? channels[l - 1]! : 0);
    out.push({ what: `the VAE ${part}'s activations at ${w}×${h}`, bytes: most * h * w * 4 });
  }
  if (c.midAttention) {
    const tokens = ceilDiv(height, 2 ** (n - 1)) * ceilDiv(width, 2 ** (n - 1));
    out.push({ what: `the VAE ${part}'s attention scores`, bytes: tokens * tokens * 4 });
  }
  return out;
}

export interface SizeQuery {
  width: number;
  height: number;
  /** Images per UNet call: 2 when guidance runs both prompts as one batch, 0 when no UNet runs. */
  unetBatch: number;
  /** Image modes run the VAE encoder too. */
  encodes: boolean;
}

/** The largest tensor a run at this size makes. */
export function largestTensor(
  configs: { unet: UnetConfig; vae: VaeConfig; precision: Precision },
  query: SizeQuery,
): SizedTensor {
  const { width, height } = query;
  const all = [
    ...unetTensors(configs.unet, height / 8, width / 8, query.unetBatch, configs.precision),
    ...vaeTensors(configs.vae, height, width, 'decoder'),
    ...(query.encodes ? vaeTensors(configs.vae, height, width, 'encoder') : []),
  ];
  return all.reduce((a, b) => (b.bytes > a.bytes ? b : a));
}

/**
 * A check for runs on an adapter that binds at most `limit` bytes at once: a size whose largest
 * tensor is larger is refused before anything runs, with the tensor and the limit in words.
 */
export function bindingCheck(
  configs: { unet: UnetConfig; vae: VaeConfig; precision: Precision },
  limit: number,
): (query: SizeQuery) => void {
  return (query) => {
    const largest = largestTensor(configs, query);
    if (largest.bytes <= limit) return;
    throw new ValidationError(
      `At ${query.width}×${query.height}, ${largest.what} would be one ${formatBytes(largest.bytes)} tensor, more than this GPU binds at once (${formatBytes(limit)}, its maxStorageBufferBindingSize), and the picture would come out wrong. Choose a smaller size, or WASM as the backend.`,
      'width',
    );
  };
}
