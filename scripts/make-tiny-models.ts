/**
 * Writes the tiny Stable Diffusion model the app offers with no download, in the folder layout of
 * a diffusers ONNX export, to public/models/tiny-sd/. Deterministic: same bytes on every run.
 *   npx tsx scripts/make-tiny-models.ts [outDir]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { clipVocabulary, EOS, specialTokensMap, tokenizerConfig, tokenizerJson } from './tiny-models/clip-tokenizer.ts';
import { textEncoder, unet, vaeDecoder, vaeEncoder } from './tiny-models/sd-components.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const outDir = resolve(process.argv[2] ?? join(root, 'public/models/tiny-sd'));

const SCHEDULER_CONFIG = {
  _class_name: 'PNDMScheduler',
  _diffusers_version: '0.31.0',
  beta_start: 0.00085,
  beta_end: 0.012,
  beta_schedule: 'scaled_linear',
  num_train_timesteps: 1000,
  set_alpha_to_one: false,
  skip_prk_steps: true,
  steps_offset: 1,
  clip_sample: false,
  trained_betas: null,
};

function write(path: string, data: Uint8Array | string | object): void {
  const file = join(outDir, path);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(
    file,
    typeof data === 'string' || data instanceof Uint8Array ? data : `${JSON.stringify(data, null, 2)}\n`,
  );
}

const started = performance.now();
const vocabulary = clipVocabulary();
write('model_index.json', {
  _class_name: 'OnnxStableDiffusionPipeline',
  _diffusers_version: '0.31.0',
  _name_or_path: 'latent-studio/tiny-sd',
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
write('tokenizer/tokenizer.json', JSON.stringify(tokenizerJson(vocabulary)));
write('tokenizer/tokenizer_config.json', tokenizerConfig(EOS));
write('tokenizer/special_tokens_map.json', specialTokensMap(EOS));
write('tokenizer/vocab.json', JSON.stringify(vocabulary.vocab));
write('tokenizer/merges.txt', `#version: 0.2\n${vocabulary.merges.join('\n')}\n`);
write('text_encoder/model.onnx', textEncoder());
write('unet/model.onnx', unet());
write('vae_decoder/model.onnx', vaeDecoder());
write('vae_decoder/config.json', { _class_name: 'AutoencoderKL', latent_channels: 4, scaling_factor: 0.18215 });
write('vae_encoder/model.onnx', vaeEncoder());
write('vae_encoder/config.json', { _class_name: 'AutoencoderKL', latent_channels: 4, scaling_factor: 0.18215 });
// The app's own copy of CLIP's tokenizer, for model repos that lack tokenizer.json.
const bundled = join(root, 'public/tokenizers/clip');
mkdirSync(bundled, { recursive: true });
writeFileSync(join(bundled, 'tokenizer.json'), JSON.stringify(tokenizerJson(vocabulary)));
writeFileSync(join(bundled, 'tokenizer_config.json'), `${JSON.stringify(tokenizerConfig(EOS), null, 2)}\n`);
console.log(`tiny-sd written to ${outDir} in ${Math.round(performance.now() - started)} ms`);
