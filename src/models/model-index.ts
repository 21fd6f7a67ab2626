/**
 * A manifest from a repo's own model_index.json: the pipeline class says what kind of model it is,
 * the files present say whether it is an ONNX export or a diffusers checkpoint.
 */
import { ValidationError } from '../core/errors';
import type { AppMode } from '../core/modes';
import { withListing, type RepoListing } from './hub-listing';
import type { CheckpointPart, ManifestComponents, ManifestFile, ModelManifest, ModelSource } from './manifest';

type ModelIndex = Record<string, unknown>;

function hasComponent(index: ModelIndex, name: string): boolean {
  const v = index[name];
  return Array.isArray(v) && v.length === 2 && v[0] !== null && v[1] !== null;
}

/** The weight files of a diffusers component, preferred variant first. */
function checkpointPart(dir: string, stem: string, dtype: 'fp32' | 'fp16'): CheckpointPart {
  const full = `${dir}/${stem}.safetensors`;
  const half = `${dir}/${stem}.fp16.safetensors`;
  return { config: `${dir}/config.json`, weights: dtype === 'fp16' ? [half, full] : [full, half] };
}

/** The files whose presence tells an ONNX export from a diffusers checkpoint. */
export const LAYOUT_PROBES = ['unet/model.onnx', 'vae_decoder/model.onnx', 'vae_encoder/model.onnx'] as const;

/**
 * A manifest from a diffusers repo's own model_index.json: an ONNX export (`vae_decoder`,
 * `<component>/model.onnx`) or a diffusers checkpoint (`vae`, config.json + safetensors per
 * component, whose graphs the app builds). The kind comes from the pipeline class; what the class
 * does not say (UNet channels, dtypes) the loader reads from the files themselves.
 *
 * `present`: which of LAYOUT_PROBES the source has, when known (a listing, a picked folder, or
 * probed). The files decide the layout over the index's keys: optimum's exporter writes the
 * index of the pipeline it exported (`vae`, no `vae_decoder`) beside ONNX folders.
 */
export function manifestFromModelIndex(
  id: string,
  source: ModelSource,
  index: ModelIndex,
  listing?: RepoListing,
  present?: ReadonlySet<string>,
): ModelManifest {
  if (typeof index !== 'object' || index === null)
    throw new ValidationError('model_index.json is not an object.', 'customModel');
  const className = typeof index['_class_name'] === 'string' ? index['_class_name'] : '';
  const files = present ?? (listing ? new Set(listing.files.keys()) : null);
  const onnxFiles = files !== null && files.has('unet/model.onnx') && files.has('vae_decoder/model.onnx');
  if (onnxFiles) {
    // An ONNX export whatever its index says: its components are the folders it has.
    index = {
      ...index,
      vae: [null, null],
      vae_decoder: ['onnx', 'folder'],
      vae_encoder: files.has('vae_encoder/model.onnx') ? ['onnx', 'folder'] : [null, null],
      ...(hasComponent(index, 'text_encoder') ? {} : { text_encoder: ['onnx', 'folder'] }),
      ...(hasComponent(index, 'unet') ? {} : { unet: ['onnx', 'folder'] }),
    };
  }
  const checkpoint = !hasComponent(index, 'vae_decoder') && hasComponent(index, 'vae');
  const sdxl = /StableDiffusionXL/.test(className) || hasComponent(index, 'text_encoder_2');
  if (/StableDiffusion3|Flux/i.test(className) || (sdxl && !/StableDiffusionXL/.test(className))) {
    throw new ValidationError(
      `This repo is a ${className || 'pipeline'} (SD 3, Flux or another family with more text encoders), which this app does not run: it runs Stable Diffusion 1.x, 2.x and XL checkpoints.`,
      'customModel',
    );
  }
  if (sdxl && !checkpoint) {
    throw new ValidationError(
      `This repo is an ONNX export of ${className}, which this app does not run: load the SDXL checkpoint's diffusers safetensors (the app builds its networks) instead.`,
      'customModel',
    );
  }
  if (sdxl && (!hasComponent(index, 'text_encoder') || index['requires_aesthetics_score'] === true)) {
    throw new ValidationError(
      `This repo is the SDXL refiner (${className}: one text encoder and an aesthetic score), which this app does not run: it runs SDXL base, Turbo and inpainting checkpoints.`,
      'customModel',
    );
  }
  if (sdxl && !hasComponent(index, 'text_encoder_2')) {
    throw new ValidationError(
      `This repo's model_index.json (${className}) has no text_encoder_2, which SDXL needs.`,
      'customModel',
    );
  }
  for (const part of ['text_encoder', 'unet', checkpoint ? 'vae' : 'vae_decoder']) {
    if (!hasComponent(index, part)) {
      throw new ValidationError(
        `This repo's model_index.json (${className || 'no _class_name'}) has no ${part}: it is not a diffusers Stable Diffusion checkpoint or ONNX export.`,
        'customModel',
      );
    }
  }
  const inpaint = /Inpaint/i.test(className);
  const depth = /Depth/i.test(className);
  const lcm = /LatentConsistency/i.test(className) || /LCM/.test(JSON.stringify(index['scheduler'] ?? ''));
  const modes: AppMode[] = inpaint
    ? ['inpaint']
    : depth
      ? ['depth2img']
      : ['txt2img', 'img2img', 'inpaint', 'compare', 'explore'];
  const file = (part: string): ManifestFile => ({ path: `${part}/model.onnx` });
  const name =
    source.kind === 'hub' ? source.repo : source.kind === 'local' ? `${source.name} (local folder)` : source.baseUrl;
  const hasEncoder = checkpoint || hasComponent(index, 'vae_encoder');
  const dtype = 'fp32';
  const part = (dir: string, stem: string) => checkpointPart(dir, stem, dtype);
  const components: ManifestComponents = checkpoint
    ? {
        format: 'safetensors',
        textEncoder: part('text_encoder', 'model'),
        ...(sdxl ? { textEncoder2: part('text_encoder_2', 'model') } : {}),
        unet: part('unet', 'diffusion_pytorch_model'),
        vae: part('vae', 'diffusion_pytorch_model'),
      }
    : {
        format: 'onnx',
        textEncoder: file('text_encoder'),
        unet: file('unet'),
        vaeDecoder: file('vae_decoder'),
        ...(hasComponent(index, 'vae_encoder') ? { vaeEncoder: file('vae_encoder') } : {}),
      };
  // diffusers runs the checker its index names (an ONNX export's own checker graph is not run here).
  const safetyChecker =
    checkpoint && hasComponent(index, 'safety_checker')
      ? { part: part('safety_checker', 'model'), preprocessor: 'feature_extractor/preprocessor_config.json' }
      : null;
  const manifest: ModelManifest = {
    id,
    name,
    source,
    ...(safetyChecker ? { safetyChecker } : {}),
    description: `Loaded from its model_index.json (${className || 'unknown pipeline'}${checkpoint ? ', safetensors: the app builds its networks' : ''}).`,
    licence: 'see the repository',
    dtype,
    kind: inpaint ? 'inpaint' : depth ? 'depth' : 'txt2img',
    modes: hasEncoder ? modes : modes.filter((m) => m === 'txt2img' || m === 'compare' || m === 'explore'),
    verified: false,
    components,
    scheduler: { path: 'scheduler/scheduler_config.json' },
    // Hub SD checkpoints ship vocab.json + merges.txt (CLIP's vocabulary): the app's bundled
    // tokenizer.json is that vocabulary, with the repo's tokenizer_config deciding the padding.
    tokenizer: { dir: 'tokenizer/', hasTokenizerJson: !checkpoint },
    ...(sdxl
      ? {
          tokenizer2: { dir: 'tokenizer_2/' },
          // StableDiffusionXL*Pipeline's own default when the index does not say.
          zerosForEmptyNegative: index['force_zeros_for_empty_prompt'] !== false,
        }
      : {}),
    vaeConfigPath: checkpoint ? 'vae/config.json' : 'vae_decoder/config.json',
    nativeSize: sdxl ? 1024 : 512,
    // SDXL's pipelines default to guidance 5.
    defaults: lcm
      ? { width: 512, height: 512, steps: 4, guidanceScale: 8 }
      : sdxl
        ? { width: 1024, height: 1024, steps: 30, guidanceScale: 5 }
        : { width: 512, height: 512, steps: 20, guidanceScale: 7.5 },
  };
  return listing ? withListing(manifest, listing) : manifest;
}
