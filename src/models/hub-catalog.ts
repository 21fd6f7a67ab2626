/**
 * The official Stable Diffusion checkpoints on the hub, as data: what each is, its licence (shown
 * before anything downloads), modes, native size and defaults. The files are the diffusers layout
 * every one of these repos has (`model_index.json`, `text_encoder/`, `unet/`, `vae/` with
 * `config.json` and safetensors); which weight files exist, their sizes and SHA-256 come from the
 * hub's own listing when the model is first loaded (see `withListing`), not from this file.
 */
import type { AppMode } from '../core/modes';
import type { CheckpointPart, ModelManifest } from './manifest';

/** A base model's modes; inpainting goes to SD 1.5 inpainting, as the selector's families say. */
const ALL: readonly AppMode[] = ['txt2img', 'img2img', 'compare', 'explore'];
const OPEN_RAIL = 'CreativeML Open RAIL-M (use restrictions in the licence)';
const OPEN_RAIL_PP = 'CreativeML Open RAIL++-M (use restrictions in the licence)';

/** A component's weights: the fp16 variant first, float32 when a repo has no variant. */
function part(dir: string, stem: string): CheckpointPart {
  return { config: `${dir}/config.json`, weights: [`${dir}/${stem}.fp16.safetensors`, `${dir}/${stem}.safetensors`] };
}

interface Preset {
  id: string;
  repo: string;
  name: string;
  description: string;
  licence: string;
  kind: ModelManifest['kind'];
  modes: readonly AppMode[];
  nativeSize: number;
  steps: number;
  guidanceScale: number;
  /** The fp16 download, for the selector before the listing gives exact sizes. */
  approxBytes: number;
  depthEstimator?: ModelManifest['depthEstimator'];
  /** SDXL: a second text encoder and tokenizer; an empty negative prompt is zeros (their model_index.json). */
  sdxl?: true;
}

function hubCheckpoint(p: Preset): ModelManifest {
  return {
    id: p.id,
    name: p.name,
    source: { kind: 'hub', repo: p.repo, revision: 'main' },
    description: p.description,
    licence: p.licence,
    dtype: 'fp32',
    kind: p.kind,
    modes: p.modes,
    verified: true,
    verifiedBy: `the diffusers layout of ${p.repo} (model_index.json with ${p.sdxl ? 'text_encoder, text_encoder_2' : 'text_encoder'}, unet and vae as safetensors); its file list, sizes and SHA-256 are read from the hub's listing when it is first loaded`,
    components: {
      format: 'safetensors',
      textEncoder: part('text_encoder', 'model'),
      ...(p.sdxl ? { textEncoder2: part('text_encoder_2', 'model') } : {}),
      unet: part('unet', 'diffusion_pytorch_model'),
      vae: part('vae', 'diffusion_pytorch_model'),
    },
    scheduler: { path: 'scheduler/scheduler_config.json' },
    // The repos have vocab.json + merges.txt; their tokenizer_config.json says the padding.
    tokenizer: { dir: 'tokenizer/', hasTokenizerJson: false },
    ...(p.sdxl ? { tokenizer2: { dir: 'tokenizer_2/' }, zerosForEmptyNegative: true } : {}),
    vaeConfigPath: 'vae/config.json',
    nativeSize: p.nativeSize,
    defaults: { width: p.nativeSize, height: p.nativeSize, steps: p.steps, guidanceScale: p.guidanceScale },
    approxBytes: p.approxBytes,
    ...(p.depthEstimator ? { depthEstimator: p.depthEstimator } : {}),
  };
}

/** SD 1.x-sized fp16 download: CLIP ViT-L 246 MB, UNet 1.72 GB, VAE 167 MB. */
const SD1_BYTES = 2_130_000_000;
/** SD 2.x: OpenCLIP ViT-H 681 MB, UNet 1.73 GB, VAE 167 MB. */
const SD2_BYTES = 2_580_000_000;
/**
 * SDXL: CLIP ViT-L 246 MB, OpenCLIP ViT-bigG 1.39 GB, UNet 5.14 GB (2,567,463,684 parameters, as the
 * app's graph counts them), VAE 167 MB; the listing gives the exact sizes once loaded.
 */
const SDXL_BYTES = 6_940_000_000;

export const HUB_CHECKPOINTS: readonly ModelManifest[] = [
  hubCheckpoint({
    id: 'sd15',
    repo: 'stable-diffusion-v1-5/stable-diffusion-v1-5',
    name: 'Stable Diffusion 1.5',
    description:
      'The SD 1.5 base model: 512×512, guidance matters (try Compare at 1.1 / 8 / 12). Needs WebGPU on a real GPU to be quick.',
    licence: OPEN_RAIL,
    kind: 'txt2img',
    modes: ALL,
    nativeSize: 512,
    steps: 20,
    guidanceScale: 7.5,
    approxBytes: SD1_BYTES,
  }),
  hubCheckpoint({
    id: 'sd15-inpaint',
    repo: 'stable-diffusion-v1-5/stable-diffusion-inpainting',
    name: 'Stable Diffusion 1.5 inpainting',
    description: 'SD 1.5 fine-tuned for inpainting (a 9-channel UNet: latents, mask, masked image): paint a mask.',
    licence: OPEN_RAIL,
    kind: 'inpaint',
    modes: ['inpaint'],
    nativeSize: 512,
    steps: 20,
    guidanceScale: 7.5,
    approxBytes: SD1_BYTES,
  }),
  hubCheckpoint({
    id: 'sd2-depth',
    repo: 'stabilityai/stable-diffusion-2-depth',
    name: 'Stable Diffusion 2 depth',
    description:
      'SD 2 conditioned on a depth map (a 5-channel UNet). The depth comes from DPT-hybrid MiDaS (Xenova/dpt-hybrid-midas, what diffusers’ depth pipeline uses), or upload your own.',
    licence: `${OPEN_RAIL_PP}; for the depth estimator see Xenova/dpt-hybrid-midas`,
    kind: 'depth',
    modes: ['depth2img'],
    nativeSize: 512,
    steps: 20,
    guidanceScale: 7.5,
    approxBytes: SD2_BYTES + 490_000_000,
    depthEstimator: { kind: 'hub', modelId: 'Xenova/dpt-hybrid-midas', revision: 'main' },
  }),
  hubCheckpoint({
    id: 'sd21-base',
    repo: 'stabilityai/stable-diffusion-2-1-base',
    name: 'Stable Diffusion 2.1 base',
    description: 'SD 2.1 at 512×512 (epsilon prediction, OpenCLIP text encoder).',
    licence: OPEN_RAIL_PP,
    kind: 'txt2img',
    modes: ALL,
    nativeSize: 512,
    steps: 20,
    guidanceScale: 7.5,
    approxBytes: SD2_BYTES,
  }),
  hubCheckpoint({
    id: 'sd-turbo-safetensors',
    repo: 'stabilityai/sd-turbo',
    name: 'SD-Turbo (safetensors)',
    description:
      'SD 2.1 distilled for 1–4 steps without guidance, from its own diffusers checkpoint (the networks built in the browser). The ONNX entry is the same model as Microsoft’s demo exports it.',
    licence: 'Stability AI Non-Commercial Research Community License',
    kind: 'turbo',
    modes: ['txt2img', 'img2img', 'compare', 'explore'],
    nativeSize: 512,
    steps: 1,
    guidanceScale: 0,
    approxBytes: SD2_BYTES,
  }),
  hubCheckpoint({
    id: 'sdxl-base',
    repo: 'stabilityai/stable-diffusion-xl-base-1.0',
    name: 'Stable Diffusion XL base 1.0',
    description:
      'SDXL at 1024×1024: two text encoders, a 2.6 B-parameter UNet. Needs WebGPU with shader-f16 (about 6.5 GiB of weights in float16); refused on WASM with the reason.',
    licence: OPEN_RAIL_PP,
    kind: 'txt2img',
    modes: ['txt2img', 'img2img', 'compare', 'explore'],
    nativeSize: 1024,
    steps: 30,
    guidanceScale: 5,
    approxBytes: SDXL_BYTES,
    sdxl: true,
  }),
  hubCheckpoint({
    id: 'sdxl-inpaint',
    repo: 'diffusers/stable-diffusion-xl-1.0-inpainting-0.1',
    name: 'SDXL inpainting 0.1',
    description: 'SDXL fine-tuned for inpainting (a 9-channel UNet): paint a mask. Needs WebGPU with shader-f16.',
    licence: OPEN_RAIL_PP,
    kind: 'inpaint',
    modes: ['inpaint'],
    nativeSize: 1024,
    steps: 20,
    guidanceScale: 8,
    approxBytes: SDXL_BYTES,
    sdxl: true,
  }),
  hubCheckpoint({
    id: 'sdxl-turbo',
    repo: 'stabilityai/sdxl-turbo',
    name: 'SDXL-Turbo',
    description:
      'SDXL distilled for 1–4 steps without guidance, at 512×512 (Euler ancestral, trailing timesteps, from its own scheduler file). Needs WebGPU with shader-f16.',
    licence: 'Stability AI Non-Commercial Research Community License',
    kind: 'turbo',
    modes: ['txt2img', 'img2img', 'compare', 'explore'],
    nativeSize: 512,
    steps: 1,
    guidanceScale: 0,
    approxBytes: SDXL_BYTES,
    sdxl: true,
  }),
  hubCheckpoint({
    id: 'lcm-dreamshaper-v7',
    repo: 'SimianLuo/LCM_Dreamshaper_v7',
    name: 'LCM Dreamshaper v7',
    description:
      'A latent consistency model distilled from Dreamshaper v7 (SD 1.5): good pictures in 4 steps; guidance enters as an embedding, no negative prompt.',
    licence: 'MIT, as its model card says',
    kind: 'txt2img',
    modes: ALL,
    nativeSize: 512,
    steps: 4,
    guidanceScale: 8,
    approxBytes: SD1_BYTES,
  }),
  hubCheckpoint({
    id: 'bk-sdm-tiny',
    repo: 'nota-ai/bk-sdm-tiny',
    name: 'BK-SDM-Tiny (small, for CPUs)',
    description:
      'SD 1.4 with blocks removed by distillation: a UNet of about 0.33 B parameters instead of 0.86 B, for machines without a fast GPU. Pictures are plainer than SD 1.5’s.',
    licence: OPEN_RAIL,
    kind: 'txt2img',
    modes: ALL,
    nativeSize: 512,
    steps: 25,
    guidanceScale: 7.5,
    approxBytes: 1_040_000_000,
  }),
];
