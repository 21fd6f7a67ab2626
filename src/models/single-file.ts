/**
 * A manifest for an original single-file checkpoint (`.safetensors` as A1111 and ComfyUI users
 * have them), from its header: what it is, which modes it runs, and where the configs it does not
 * store come from. The file itself stays where it is until Generate reads it in the worker.
 */
import { ValidationError } from '../core/errors';
import type { SafetensorsHeader } from '../core/formats/safetensors';
import type { SchedulerConfigJson } from '../core/schedulers/types';
import { SD_SCHEDULER_CONFIG, SDXL_SCHEDULER_CONFIG } from '../core/schedulers/sd-scheduler';
import { mapSingleFile } from '../core/single-file/keys';
import { describeSingleFile, familyMisfit, singleFileConfigs } from '../core/single-file/layout';
import type { AppMode } from '../core/modes';
import type { ModelManifest } from './manifest';

export type PredictionType = 'epsilon' | 'v_prediction';

/**
 * Stable Diffusion's own scheduler config, since a single file has none; the prediction type is the
 * person's choice, since the file does not say.
 */
export function sdSchedulerConfig(prediction: PredictionType): SchedulerConfigJson {
  return { ...SD_SCHEDULER_CONFIG, prediction_type: prediction };
}

/** SDXL's own scheduler config, with the person's prediction type. */
function sdxlSchedulerConfig(prediction: PredictionType): SchedulerConfigJson {
  return { ...SDXL_SCHEDULER_CONFIG, prediction_type: prediction };
}

export interface CheckpointChoice {
  prediction: PredictionType;
  /** A diffusers checkpoint whose configs describe the file (as diffusers' `config=`), or null. */
  configsFrom: ModelManifest | null;
}

const MODES: Record<ModelManifest['kind'], readonly AppMode[]> = {
  txt2img: ['txt2img', 'img2img', 'inpaint', 'compare', 'explore'],
  turbo: ['txt2img', 'img2img', 'compare', 'explore'],
  inpaint: ['inpaint'],
  depth: ['depth2img'],
};

/** FNV-1a, 32 bits, as 8 hex digits: short, stable, not a security measure. */
function digest(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return h.toString(16).padStart(8, '0');
}

/** `identity`: what tells this file from another of the same name (its modification time). */
export function manifestFromSingleFile(
  file: Blob,
  fileName: string,
  identity: string,
  header: SafetensorsHeader,
  choice: CheckpointChoice,
): ModelManifest {
  const layout = describeSingleFile(header);
  const from = choice.configsFrom;
  if (from && from.components.format !== 'safetensors') {
    throw new ValidationError(
      `${from.name} is not a diffusers checkpoint with config.json files, so its configs cannot describe ${fileName}.`,
      'checkpoint',
    );
  }
  if (!from) {
    const misfit = familyMisfit(fileName, layout, singleFileConfigs(layout, mapSingleFile(header)));
    if (misfit) throw new ValidationError(misfit, 'checkpoint');
  }
  const sdxl = layout.family === 'sdxl';
  if (from?.components.format === 'safetensors' && !from.components.textEncoder2 !== !sdxl) {
    throw new ValidationError(
      `${fileName} is ${sdxl ? 'an SDXL checkpoint' : `an ${layout.summary.split(',')[0]} checkpoint`}, and ${from.name} is ${from.components.textEncoder2 ? 'an SDXL model' : 'not'}: choose configs of the same family.`,
      'checkpoint',
    );
  }
  const configs =
    from?.components.format === 'safetensors'
      ? {
          textEncoder: from.components.textEncoder.config,
          ...(from.components.textEncoder2 ? { textEncoder2: from.components.textEncoder2.config } : {}),
          unet: from.components.unet.config,
          vae: from.components.vae.config,
        }
      : null;
  const prediction = choice.prediction === 'v_prediction' ? ', v-prediction' : '';
  return {
    // The file's name for people; a digest of what else makes it this model, so a file picked again
    // with another prediction type or configs (or changed on disk) is loaded again, not reused.
    id: `file:${fileName}#${digest(`${identity}|${file.size}|${from?.id ?? ''}|${choice.prediction}`)}`,
    name: `${fileName} (${layout.summary}${prediction})`,
    // The configs' model's files (tokenizer, configs); the app's own CLIP tokenizer otherwise.
    source: from ? from.source : { kind: 'app', baseUrl: import.meta.env.BASE_URL },
    description: `A single-file checkpoint from this computer: ${layout.summary}${from ? `, with the configs of ${from.name}` : ''}. It is read in place; after a reload, pick it again.`,
    licence: 'as its maker says (a file from this computer)',
    // The file's tensors are read as they are; the compute type is the backend's (convert-weights.ts).
    dtype: 'fp32',
    kind: layout.kind,
    modes: MODES[layout.kind],
    verified: false,
    components: { format: 'single-file', file, fileName, configs },
    scheduler: { config: sdxl ? sdxlSchedulerConfig(choice.prediction) : sdSchedulerConfig(choice.prediction) },
    ...(sdxl ? { defaultScheduler: 'euler' as const } : {}),
    tokenizer: from ? from.tokenizer : { dir: 'tokenizers/clip/', hasTokenizerJson: true },
    // The configs' model says its own padding (its tokenizer config); the file's family otherwise.
    ...(from ? (from.padToken !== undefined ? { padToken: from.padToken } : {}) : { padToken: layout.padToken }),
    ...(sdxl
      ? {
          tokenizer2: from?.tokenizer2 ?? { dir: 'tokenizers/clip/', padToken: layout.secondPadToken ?? '!' },
          zerosForEmptyNegative: from?.zerosForEmptyNegative ?? true,
        }
      : {}),
    nativeSize: sdxl ? 1024 : 512,
    defaults: sdxl
      ? { width: 1024, height: 1024, steps: 30, guidanceScale: 5 }
      : { width: 512, height: 512, steps: 20, guidanceScale: 7.5 },
    approxBytes: file.size,
  };
}
