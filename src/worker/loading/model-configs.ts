/** The small files a model needs besides its networks: scheduler config, tokenizer, VAE config. */
import { ModelError } from '../../core/errors';
import type { SchedulerConfigJson } from '../../core/schedulers';
import type { LoadPlan } from '../../protocol/load-plan';
import { parseJson, type ModelFiles } from './model-files';
import { createClipTokenizer, type ClipTokenizer } from './tokenizer';

/** The app ships CLIP's tokenizer for model repos that only have vocab.json + merges.txt. */
const BUNDLED_TOKENIZER = `${import.meta.env.BASE_URL}tokenizers/clip/tokenizer.json`;

export interface ModelConfigs {
  schedulerConfig: SchedulerConfigJson;
  tokenizer: ClipTokenizer;
  /** SDXL: the second tokenizer's padding id (its vocabulary is the first's: CLIP's). */
  secondPadId: number | null;
  vaeConfig: { scaling_factor?: number } | null;
}

export async function readModelConfigs(plan: LoadPlan, files: ModelFiles, signal: AbortSignal): Promise<ModelConfigs> {
  const schedulerConfig =
    'config' in plan.scheduler
      ? plan.scheduler.config
      : parseJson<SchedulerConfigJson>(await files.getOptional(plan.scheduler), plan.scheduler.path);
  if (!schedulerConfig)
    throw new ModelError(`The model has no ${'path' in plan.scheduler ? plan.scheduler.path : 'scheduler config'}.`);
  const tokenizerConfig = await readTokenizerConfig(files, plan);
  const secondConfig = plan.secondTokenizer ? await readTokenizerConfig(files, plan.secondTokenizer) : null;
  let tokenizerJson = plan.tokenizerJson
    ? parseJson<object>(await files.getOptional(plan.tokenizerJson), plan.tokenizerJson.path)
    : null;
  if (!tokenizerJson) {
    const response = await fetch(new URL(BUNDLED_TOKENIZER, self.location.href).href, { signal }).catch(() => null);
    tokenizerJson = response?.ok ? ((await response.json()) as object) : null;
  }
  if (!tokenizerJson) throw new ModelError('No tokenizer could be loaded for this model.');
  const tokenizer = createClipTokenizer(tokenizerJson, {
    model_max_length: 77,
    ...tokenizerConfig,
    ...(plan.padToken !== undefined ? { pad_token: plan.padToken } : {}),
  });
  const vaeConfig = plan.vaeConfig
    ? parseJson<{ scaling_factor?: number }>(await files.getOptional(plan.vaeConfig), plan.vaeConfig.path)
    : null;
  const secondPad = plan.secondTokenizer?.padToken;
  const secondPadId = secondConfig
    ? createClipTokenizer(tokenizerJson, {
        model_max_length: 77,
        ...secondConfig,
        ...(secondPad !== undefined ? { pad_token: secondPad } : {}),
      }).padId
    : null;
  return { schedulerConfig, tokenizer, secondPadId, vaeConfig };
}

/** A tokenizer's config, or its special tokens map when it has none (older repos), or nothing. */
async function readTokenizerConfig(
  files: ModelFiles,
  refs: Pick<LoadPlan, 'tokenizerConfig' | 'specialTokensMap'>,
): Promise<Record<string, unknown>> {
  return (
    parseJson<Record<string, unknown>>(await files.getOptional(refs.tokenizerConfig), refs.tokenizerConfig.path) ??
    parseJson<Record<string, unknown>>(await files.getOptional(refs.specialTokensMap), refs.specialTokensMap.path) ??
    {}
  );
}
