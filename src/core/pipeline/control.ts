/**
 * ControlNet guidance as diffusers' StableDiffusionControlNet{,Img2Img,Inpaint}Pipeline run it:
 * on each step, every ControlNet whose range holds the step gives residuals for the UNet's skips
 * and mid block, times its conditioning scale (several ControlNets' residuals are summed, as
 * MultiControlNetModel does). In guess mode the ControlNets see only the conditional half, their
 * residuals ramp from 0.1 to 1.0 across the blocks, and the unconditional half gets none.
 */
import { ValidationError } from '../errors';
import { resizePil } from '../image/resample';
import type { RgbaImage } from '../image/rgba';
import { tensor, type Tensor } from '../math/tensor';
import type { ControlResiduals } from './models';
import type { PromptEmbeddings } from './prompt';

export type { ControlResiduals };

/** A loaded ControlNet, as the pipeline calls it. */
export interface ControlNetModel {
  /** The number of skip residuals it gives (the UNet's down path must keep as many). */
  readonly skips: number;
  /** Its residuals are averaged over the picture (global_pool_conditions: it always runs in guess mode). */
  readonly globalPool: boolean;
  /**
   * Residuals for `sample` [B, 4, h, w] (scaled latents) at `t`, with `text` [B, T, hidden] and the
   * control picture `image` [B, 3, 8h, 8w] in [0, 1]; `scales` [skips + 1] multiplies each residual.
   */
  run(sample: Tensor, t: number, text: Tensor, image: Tensor, scales: Float32Array): Promise<ControlResiduals>;
}

/** One ControlNet in a run: its control picture (already at the output size) and settings. */
export interface ControlUnit {
  net: ControlNetModel;
  /** [1, 3, H, W] in [0, 1]. */
  image: Tensor;
  /** controlnet_conditioning_scale. */
  scale: number;
  /** control_guidance_start / end: the fraction of the steps the ControlNet runs in. */
  start: number;
  end: number;
}

export interface ControlRun {
  units: readonly ControlUnit[];
  /** A1111's "ControlNet is more important". */
  guessMode: boolean;
}

/** Which UNet call residuals are for: the batch-2 [uncond; cond] call, or one half alone. */
export type ControlCall = 'both' | 'uncond' | 'cond';

/**
 * diffusers' controlnet_keep: 1 when step i of n lies inside [start, end], else 0 (the ControlNet
 * still runs there in diffusers, at scale 0, which adds nothing).
 */
export function controlKeep(i: number, n: number, start: number, end: number): number {
  return i / n < start || (i + 1) / n > end ? 0 : 1;
}

/** torch.logspace(−1, 0, count) in float32: guess mode's ramp from 0.1 to 1.0 across the residuals. */
export function guessModeRamp(count: number): Float32Array {
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = 10 ** (-1 + (count === 1 ? 0 : i / (count - 1)));
  return out;
}

/** The per-residual factors one ControlNet call takes. */
function residualScales(net: ControlNetModel, scale: number, guessMode: boolean): Float32Array {
  const count = net.skips + 1;
  if (guessMode && !net.globalPool) return guessModeRamp(count).map((v) => Math.fround(v * scale));
  return new Float32Array(count).fill(scale);
}

/** The batch-2 copy of a batch-1 tensor. */
function twice(x: Tensor): Tensor {
  const data = new Float32Array(2 * x.data.length);
  data.set(x.data, 0);
  data.set(x.data, x.data.length);
  return tensor(data, [2 * x.dims[0]!, ...x.dims.slice(1)]);
}

/** [zeros; x]: residuals for the unconditional half left out in guess mode. */
function afterZeros(x: Tensor): Tensor {
  const data = new Float32Array(2 * x.data.length);
  data.set(x.data, x.data.length);
  return tensor(data, [2 * x.dims[0]!, ...x.dims.slice(1)]);
}

function addInto(sum: ControlResiduals, more: ControlResiduals): ControlResiduals {
  const add = (a: Tensor, b: Tensor) => {
    for (let i = 0; i < a.data.length; i++) a.data[i]! += b.data[i]!;
    return a;
  };
  return { down: sum.down.map((d, i) => add(d, more.down[i]!)), mid: add(sum.mid, more.mid) };
}

function zerosLike(r: ControlResiduals, batch: number): ControlResiduals {
  const zeros = (x: Tensor) => {
    const dims = [batch, ...x.dims.slice(1)];
    return tensor(new Float32Array((x.data.length / x.dims[0]!) * batch), dims);
  };
  return { down: r.down.map(zeros), mid: zeros(r.mid) };
}

/**
 * The residuals for each UNet call of a run's steps. Steps outside every ControlNet's range get
 * zeros shaped like an earlier call's (or from one call at scale 0, as diffusers runs it there).
 */
export class ControlSteps {
  private readonly guessMode: boolean;
  private shape: ControlResiduals | null = null;
  private readonly pairs = new Map<ControlUnit, Tensor>();

  constructor(
    private readonly run: ControlRun,
    private readonly totalSteps: number,
  ) {
    // diffusers: guess_mode = guess_mode or global_pool_conditions.
    this.guessMode = run.guessMode || run.units.some((u) => u.net.globalPool);
  }

  /** Residuals for step `index`'s UNet call `call`, with the step's scaled latents [1, 4, h, w]. */
  async residuals(
    index: number,
    call: ControlCall,
    scaled: Tensor,
    t: number,
    embeddings: PromptEmbeddings,
  ): Promise<ControlResiduals> {
    const batch = call === 'both' ? 2 : 1;
    // Guess mode: the unconditional half gets no residuals at all.
    if (this.guessMode && call === 'uncond') return this.zeros(scaled, t, embeddings, 1);
    let sum: ControlResiduals | null = null;
    for (const unit of this.run.units) {
      const keep = controlKeep(index, this.totalSteps, unit.start, unit.end);
      if (keep === 0) continue;
      const scales = residualScales(unit.net, unit.scale * keep, this.guessMode);
      const out = await this.call(unit, call, scaled, t, embeddings, scales);
      sum = sum ? addInto(sum, out) : out;
    }
    if (!sum) return this.zeros(scaled, t, embeddings, batch);
    this.shape ??= sum;
    return sum;
  }

  private async call(
    unit: ControlUnit,
    call: ControlCall,
    scaled: Tensor,
    t: number,
    embeddings: PromptEmbeddings,
    scales: Float32Array,
  ): Promise<ControlResiduals> {
    const { net, image } = unit;
    if (call === 'both' && this.guessMode) {
      const r = await net.run(scaled, t, embeddings.cond, image, scales);
      return { down: r.down.map(afterZeros), mid: afterZeros(r.mid) };
    }
    if (call === 'both') {
      const text = embeddings.batched;
      if (!text) throw new ValidationError('ControlNet: the UNet call has no batch-2 text.', 'controlnet');
      // The control picture's batch-2 copy is made once per run, not per step.
      let pair = this.pairs.get(unit);
      if (!pair) this.pairs.set(unit, (pair = twice(image)));
      return net.run(twice(scaled), t, text, pair, scales);
    }
    const text = call === 'uncond' ? embeddings.uncond : embeddings.cond;
    if (!text) throw new ValidationError('ControlNet: the unconditional text is missing.', 'controlnet');
    return net.run(scaled, t, text, image, scales);
  }

  private async zeros(
    scaled: Tensor,
    t: number,
    embeddings: PromptEmbeddings,
    batch: number,
  ): Promise<ControlResiduals> {
    if (!this.shape) {
      const unit = this.run.units[0];
      if (!unit) throw new ValidationError('ControlNet: no ControlNet in the run.', 'controlnet');
      const scales = new Float32Array(unit.net.skips + 1);
      this.shape = await unit.net.run(scaled, t, embeddings.cond, unit.image, scales);
    }
    return zerosLike(this.shape, batch);
  }
}

/**
 * The control picture as diffusers' prepare_image makes it: resized to the output size with PIL's
 * Lanczos when its size differs (VaeImageProcessor.resize), then [1, 3, H, W] in [0, 1] (no
 * normalising to [−1, 1]).
 */
export function controlImageTensor(image: RgbaImage, width: number, height: number): Tensor {
  const sized = image.width === width && image.height === height ? image : resizePil(image, width, height, 'lanczos');
  const plane = width * height;
  const data = new Float32Array(3 * plane);
  const px = sized.pixels;
  for (let i = 0; i < plane; i++) {
    data[i] = px[4 * i]! / 255;
    data[plane + i] = px[4 * i + 1]! / 255;
    data[2 * plane + i] = px[4 * i + 2]! / 255;
  }
  return tensor(data, [1, 3, height, width]);
}
