/**
 * Writes the tiny models the app offers with no download, each in the folder layout its loader
 * expects, under public/models/: tiny-sd (4-channel UNet), tiny-sd-inpaint (9-channel),
 * tiny-sd-depth (5-channel), all diffusers ONNX layout, and tiny-depth-anything (transformers.js
 * layout). Deterministic: same bytes on every run.
 *   npx tsx scripts/make-tiny-models.ts [modelsDir]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { clipVocabulary, EOS, specialTokensMap, tokenizerConfig, tokenizerJson } from './tiny-models/clip-tokenizer.ts';
import { SD_SCHEDULER_CONFIG } from '../src/core/schedulers/sd-scheduler.ts';
import { depthEstimator, textEncoder, unet, vaeDecoder, vaeEncoder } from './tiny-models/sd-components.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const modelsDir = resolve(process.argv[2] ?? join(root, 'public/models'));

const SCHEDULER_CONFIG = { ...SD_SCHEDULER_CONFIG, _diffusers_version: '0.31.0', trained_betas: null };

function writer(dir: string): (path: string, data: Uint8Array | string | object) => void {
  return (path, data) => {
    const file = join(modelsDir, dir, path);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(
      file,
      typeof data === 'string' || data instanceof Uint8Array ? data : `${JSON.stringify(data, null, 2)}\n`,
    );
  };
}

const started = performance.now();
const vocabulary = clipVocabulary();
const shared = {
  textEncoder: textEncoder(),
  vaeDecoder: vaeDecoder(),
  vaeEncoder: vaeEncoder(),
  tokenizerJson: JSON.stringify(tokenizerJson(vocabulary)),
};

/** One diffusers-layout SD folder; the variants differ only in the UNet. */
function writeStableDiffusion(dir: string, unetBytes: Uint8Array, pipelineClass: string): void {
  const write = writer(dir);
  write('model_index.json', {
    _class_name: pipelineClass,
    _diffusers_version: '0.31.0',
    _name_or_path: `latent-studio/${dir}`,
    requires_safety_checker: false,
    feature_extractor: [null, null],
    safety_checker: [null, null],
    scheduler: ['diffusers', 'PNDMScheduler'],
    text_encoder: ['diffusers', 'OnnxRuntimeModel'],
    tokenizer: ['transformers', 'CLIPTokenizer'],
    unet: ['diffusers', 'OnnxRuntimeModel'],
    vae_decoder: ['diffusers', 'OnnxRuntimeModel'],
    vae_encoder: ['diffusers', 'OnnxRuntimeModel'],
  });
  write('scheduler/scheduler_config.json', SCHEDULER_CONFIG);
  write('tokenizer/tokenizer.json', shared.tokenizerJson);
  write('tokenizer/tokenizer_config.json', tokenizerConfig(EOS));
  write('tokenizer/special_tokens_map.json', specialTokensMap(EOS));
  write('tokenizer/vocab.json', JSON.stringify(vocabulary.vocab));
  write('tokenizer/merges.txt', `#version: 0.2\n${vocabulary.merges.join('\n')}\n`);
  write('text_encoder/model.onnx', shared.textEncoder);
  write('unet/model.onnx', unetBytes);
  write('vae_decoder/model.onnx', shared.vaeDecoder);
  write('vae_decoder/config.json', { _class_name: 'AutoencoderKL', latent_channels: 4, scaling_factor: 0.18215 });
  write('vae_encoder/model.onnx', shared.vaeEncoder);
  write('vae_encoder/config.json', { _class_name: 'AutoencoderKL', latent_channels: 4, scaling_factor: 0.18215 });
}

writeStableDiffusion('tiny-sd', unet('plain'), 'OnnxStableDiffusionPipeline');
writeStableDiffusion('tiny-sd-inpaint', unet('inpaint'), 'OnnxStableDiffusionInpaintPipeline');
writeStableDiffusion('tiny-sd-depth', unet('depth'), 'StableDiffusionDepth2ImgPipeline');

// A depth estimator in the layout transformers.js loads, shaped like onnx-community/depth-anything-v2-small.
const depth = writer('tiny-depth-anything');
depth('config.json', {
  _name_or_path: 'latent-studio/tiny-depth-anything',
  architectures: ['DepthAnythingForDepthEstimation'],
  model_type: 'depth_anything',
  depth_estimation_type: 'relative',
});
depth('preprocessor_config.json', {
  image_processor_type: 'DPTImageProcessor',
  do_resize: true,
  size: { height: 112, width: 112 },
  keep_aspect_ratio: true,
  ensure_multiple_of: 14,
  resample: 3,
  do_rescale: true,
  rescale_factor: 0.00392156862745098,
  do_normalize: true,
  image_mean: [0.485, 0.456, 0.406],
  image_std: [0.229, 0.224, 0.225],
  do_pad: false,
});
depth('onnx/model.onnx', depthEstimator());

// The app's own copy of CLIP's tokenizer, for model repos that lack tokenizer.json.
const bundled = join(root, 'public/tokenizers/clip');
mkdirSync(bundled, { recursive: true });
writeFileSync(join(bundled, 'tokenizer.json'), shared.tokenizerJson);
writeFileSync(join(bundled, 'tokenizer_config.json'), `${JSON.stringify(tokenizerConfig(EOS), null, 2)}\n`);
console.log(`tiny models written to ${modelsDir} in ${Math.round(performance.now() - started)} ms`);
