/**
 * Generate: the settings become a request, the worker runs it, the picture is kept in the gallery
 * and shown. Compare, image inputs and explore have their own action modules; the client and the
 * job lifecycle are in worker-session.ts.
 */
import { randomSeed } from '../core/math/random';
import { validateGenerate } from '../core/validate';
import { showImage } from '../canvas/result-surface';
import { clearPreviews } from '../canvas/previews';
import { pipelineMode } from '../core/modes';
import type { GenerateParams } from '../protocol/messages';
import { buildImageInputs, showDepthResult } from './image-actions';
import { saveToGallery } from './gallery-actions';
import { requestOf, resultRecord, settingsFromStore } from './generation';
import { runCompare } from './compare-actions';
import { embeddingsForRun, lorasForRun } from './lora-actions';
import { parseLoraTags, withLoraTags, type LoraTag } from '../core/prompt/lora-tags';
import { useStore } from '../store';
import { client, failBeforeStart, isRunning, onProgress, runJob, schedulerForRun } from './worker-session';

export async function generate(): Promise<void> {
  if (isRunning()) return;
  const store = useStore.getState();
  store.patchJob({ run: store.job.run + 1 });
  if (store.mode === 'compare') return runCompare();
  const mode = pipelineMode(store.mode);
  const settings = settingsFromStore(store, mode);
  let request: GenerateParams;
  let tags: LoraTag[] = [];
  try {
    // <lora:name:w> tags set strengths and leave the text the tokenizer sees.
    let prompt: string;
    ({ prompt, tags } = parseLoraTags(settings.prompt));
    request = { ...requestOf(settings), prompt };
    // Check the numbers first, so a bad size is reported before the image is drawn at it.
    validateGenerate({ ...request, mode: 'txt2img' });
    Object.assign(request, buildImageInputs(mode, request.width, request.height));
    validateGenerate({ ...request });
    // Explore always shows the steps; elsewhere previews are the person's choice.
    if (store.livePreview || store.mode === 'explore') {
      request.preview = { every: Math.max(1, Math.round(store.previewEvery)), kind: store.previewKind };
    }
  } catch (error) {
    failBeforeStart(error);
    return;
  }
  clearPreviews();
  store.previewsCleared();
  await runJob(request.steps, async (signal) => {
    request.scheduler = schedulerForRun();
    request.loras = await lorasForRun(client, tags);
    request.embeddings = await embeddingsForRun(client);
    const result = await client.request('generate', request, { signal, onProgress });
    const image = new ImageData(new Uint8ClampedArray(result.pixels), result.width, result.height);
    // The PNG parameters record the LoRAs as A1111 writes them: tags in the prompt.
    const record = resultRecord(
      { ...settings, scheduler: request.scheduler, prompt: withLoraTags(store.prompt, request.loras) },
      result,
    );
    // In the gallery before it is shown, so a crash or reload right after cannot lose it.
    await saveToGallery(image, record.settings);
    showImage(image);
    if (result.depth) showDepthResult(result.depth, request.depth ? (store.depth?.source ?? 'uploaded') : 'estimated');
    useStore.getState().resultShown(record);
  });
}

export function newSeed(): void {
  useStore.getState().setSetting('seed', randomSeed().toString());
}
